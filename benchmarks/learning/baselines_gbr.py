"""Baselines on a cached dataset's 72 % split test: rows (h11 = rows), h21 = 0, favourable guess
(rows, 0, chi-completed h31/h22), and gradient boosting (scikit-learn HistGradientBoostingRegressor,
500 iterations, flattened matrix + row/column degree counts + chi; one regressor per h11, h21;
h31/h22 chi-completed; predictions rounded).

    nice -n 10 .venv/bin/python benchmarks/learning/baselines_gbr.py r2nr [--ntrain N] [--no-gbr]
Writes runs/baselines_<data>[_nN].json.
"""
import argparse, json, os, time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def chi_complete(h11, h21, chi):
    h31 = chi / 6 - 8 - h11 + h21
    h22 = 44 + 4 * h11 - 2 * h21 + 4 * h31
    return np.stack([h11, h21, h31, h22], 1)


def acc(pred, y):
    r = np.round(pred) == y
    out = {k: float(r[:, i].mean()) for i, k in enumerate(["h11", "h21", "h31", "h22"])}
    out["both"] = float((r[:, 0] & r[:, 1]).mean())
    return out


def features(conf, chi):
    c = conf.astype(np.float32)
    nz = c > 0
    rowsum = c.sum(2)
    colsum = c.sum(1)
    # degree counts: how many rows are P^n for n = 1..9 and how many columns have degree d = 1..10
    rdeg = np.stack([((rowsum - 1) == n).sum(1) for n in range(1, 10)], 1)
    cdeg = np.stack([(colsum == d).sum(1) for d in range(1, 11)], 1)
    return np.concatenate([c.reshape(len(c), -1), rdeg, cdeg, nz.any(2).sum(1)[:, None], nz.any(1).sum(1)[:, None],
                           chi[:, None].astype(np.float32)], 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--ntrain", type=int, default=0)
    ap.add_argument("--no-gbr", action="store_true")
    a = ap.parse_args()
    d = dict(np.load(HERE / "_cache" / f"{a.data}.npz"))
    conf, y, chi = d["conf"], d["hodge"].astype(np.float64), d["euler"].astype(np.float64)
    te, tr = d["test"], d["train"]
    if a.ntrain:
        tr = np.random.default_rng(0).permutation(tr)[:a.ntrain]
    rows = (conf != 0).any(2).sum(1).astype(np.float64)
    res = {"data": a.data, "n_train": len(tr), "n_test": len(te), "date": time.strftime("%Y-%m-%d %H:%M"),
           "machine": f"{os.cpu_count()}-core CPU (shared)"}
    res["rows baseline (h11 = rows)"] = acc(chi_complete(rows[te], 0 * rows[te], chi[te]), y[te])
    res["h21 = 0"] = {"h21": float((y[te, 1] == 0).mean())}
    res["favourable guess (rows, 0, chi)"] = res["rows baseline (h11 = rows)"]
    if not a.no_gbr:
        from sklearn.ensemble import HistGradientBoostingRegressor
        X = features(conf, chi)
        t0 = time.time()
        preds = []
        for k in (0, 1):
            m = HistGradientBoostingRegressor(max_iter=500, random_state=0, early_stopping=False)
            m.fit(X[tr], y[tr, k])
            preds.append(np.round(m.predict(X[te])))
        res["gradient boosting (HistGBR 500)"] = acc(chi_complete(preds[0], preds[1], chi[te]), y[te])
        res["gbr_fit_s"] = round(time.time() - t0)
    out = HERE / "runs" / f"baselines_{a.data}{'_n%d' % a.ntrain if a.ntrain else ''}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=1))
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
