"""Scoring shared by the research scripts (own code, so that work in progress elsewhere in the library
cannot stop a finished run from being scored)."""
import numpy as np

HODGE = ("h11", "h21", "h31", "h22")


def chi_complete(h11, h21, chi):
    h31 = chi / 6 - 8 - h11 + h21
    h22 = 44 + 4 * h11 - 2 * h21 + 4 * h31
    return np.stack([h11, h21, h31, h22], 1)


def accuracy(pred, y, chi):
    """Accuracy (%) raw (rounded outputs) and constrained (h31, h22 from rounded h11, h21 and chi)."""
    raw = np.rint(pred)
    con = chi_complete(raw[:, 0], raw[:, 1], chi.astype(np.float64))
    out = {}
    for kind, p in (("raw", raw), ("constrained", con)):
        right = p == y
        for i, h in enumerate(HODGE):
            out[f"{kind}_{h}"] = round(100 * float(right[:, i].mean()), 2)
        out[f"{kind}_mean"] = round(float(np.mean([out[f"{kind}_{h}"] for h in HODGE])), 2)
    out["both_h11_h21"] = round(100 * float((raw[:, 0] == y[:, 0]).__and__(raw[:, 1] == y[:, 1]).mean()), 2)
    return out


def score_run(run_dir, data, idx, canonical=False):
    from cicy4lib.models.checkpoint import load_model
    from cicy4lib.results.evaluate import predict
    model, cfg = load_model(run_dir)
    pred = predict(model, data.conf[idx], scale=cfg.get("scale", 6.0), canonical=canonical)
    return accuracy(pred, data.hodge[idx].astype(np.float64), data.euler[idx]), pred
