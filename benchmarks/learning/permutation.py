"""Permutation robustness: every shipped model on the test set as stored, with the rows and columns of
every test matrix randomly permuted (same manifolds), and permuted + canonical=True.

    nice -n 10 .venv/bin/python benchmarks/learning/permutation.py --data r2nr [--models DIR ...] [--n N]

Writes runs/permutation_<data>.json: per model, raw accuracy (%) per Hodge number plain / permuted /
permuted+canonical, and how many rounded predictions changed against the plain ones.
"""
import argparse, json, sys, time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))


def permute_blocks(conf, seed=0):
    g = np.random.default_rng(seed)
    out = np.zeros_like(conf)
    for i, m in enumerate(conf):
        r, c = int((m != 0).any(1).sum()), int((m != 0).any(0).sum())
        out[i, :r, :c] = m[:r, :c][g.permutation(r)][:, g.permutation(c)]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="r2nr")
    ap.add_argument("--models", nargs="*", default=None)
    ap.add_argument("--n", type=int, default=0, help="first N test rows only (0: all)")
    a = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    from cicy4lib.models.checkpoint import load_model
    from cicy4lib.results.evaluate import predict
    d = np.load(HERE / "_cache" / f"{a.data}.npz")
    te = d["test"][:a.n] if a.n else d["test"]
    conf, y = d["conf"][te].astype(np.int64), d["hodge"][te]
    perm = permute_blocks(conf)
    dirs = a.models or sorted(str(p.parent) for p in (HERE.parents[1] / "Results_p2_Trained_models").glob("*/model.pt"))
    res = {"data": a.data, "n_test": len(te), "moved": int((perm != conf).any((1, 2)).sum()),
           "date": time.strftime("%Y-%m-%d %H:%M"), "models": {}}
    for path in dirs:
        model, cfg = load_model(path)
        scale = cfg.get("scale", 6.0)
        t0 = time.time()
        plain = np.rint(predict(model, conf, scale=scale, canonical=False))
        permuted = np.rint(predict(model, perm, scale=scale, canonical=False))
        t1 = time.time()
        canon = np.rint(predict(model, perm, scale=scale, canonical=True))
        t2 = time.time()
        acc = lambda p: {h: round(100 * float((p[:, i] == y[:, i]).mean()), 2) for i, h in enumerate(["h11", "h21", "h31", "h22"])}
        res["models"][cfg["arch"] + " (" + Path(path).name + ")"] = {
            "plain": acc(plain), "permuted": acc(permuted), "permuted_canonical": acc(canon),
            "changed_permuted": int((permuted != plain).any(1).sum()),
            "changed_permuted_canonical": int((canon != plain).any(1).sum()),
            "predict_s": round(t1 - t0, 1), "canonical_predict_s": round(t2 - t1, 1)}
        print(path, json.dumps(res["models"][cfg["arch"] + " (" + Path(path).name + ")"]), flush=True)
    (HERE / "runs" / f"permutation_{a.data}.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
