"""Constants shared by the whole library: the padded shape, the scale, the Hodge names, list sizes."""

MAX_ROWS = 16  # projective factors in the padded configuration matrix (the RNN's time steps)
MAX_COLS = 20  # polynomials
DIMENSION = 4  # complex dimension of the Calabi-Yau
DEFAULT_SCALE = 6.0  # global maximum entry of the CICY4 list: the published conf.npy holds integers / 6

HODGE = ("h11", "h21", "h31", "h22")
TARGETS = (*HODGE, "mean")
N_OUTPUTS = len(HODGE)

REAL_LIST_ENTRIES = 921_497  # configurations in the CICY4 list
REAL_LIST_NON_PRODUCT = 905_684  # of which are not direct products (what the paper trains on)

PROVENANCE_FILE = "provenance.json"  # written beside every file set the data layer writes
