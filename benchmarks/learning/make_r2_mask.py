"""Cache release 2's redundancy mask (True = ineffective splitting of a smaller configuration).

    nice -n 10 .venv/bin/python benchmarks/learning/make_r2_mask.py
writes benchmarks/learning/r2_redundant_mask.npy (bool, one per entry of load_dataset("generated-r2")
or, before release 3 lands, load_dataset("generated")).
"""
import sys, time
from pathlib import Path
import numpy as np
import torch
torch.set_num_threads(1)
import cicy4lib
from cicy4lib.geometry.splitting import redundant_mask

OUT = Path(__file__).with_name("r2_redundant_mask.npy")
# release 2 by its folder (works before and after release 3 takes the name "generated")
name = str(Path(cicy4lib.__file__).parent / "_data" / "generated")
data = cicy4lib.load_dataset(name)
print(name, len(data), flush=True)
t0 = time.time()
parts = []
step = 10000
for i in range(0, len(data), step):
    parts.append(redundant_mask(data.conf[i:i + step], data.euler[i:i + step]))
    print(i + step, f"{time.time() - t0:.0f}s", int(np.concatenate(parts).sum()), flush=True)
mask = np.concatenate(parts)
np.save(OUT, mask)
print("redundant", int(mask.sum()), "of", len(mask), "kept", int((~mask).sum()), f"{time.time()-t0:.0f}s")
