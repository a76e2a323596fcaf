"""HodgeGNN-64 on release 2 under the Hodge rule (``load_dataset("generated-hodge-rule")``).

That set keeps release 2's entries that are minimal under the Euler rule plus those whose every
χ-equal contraction is another manifold; its favourable share and h21 are near the list's
(benchmarks/results/data_release3.md). Split: the library's 72 % split (seed 42). Recipe: the
model's own, ``--epochs`` one-cycle epochs with a wall-clock budget. Resumable: rerun the command.

    nice -n 5 .venv/bin/python benchmarks/learning/train_hodge_rule.py --epochs 12 --budget-h 0.6

Writes runs/hodge_rule_<model>_e<epochs>/test.json: test accuracies (raw h11, h21; h31, h22 from
χ) beside the favourable guess on the same rows, and accuracy by row count.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import cicy4lib
from cicy4lib.data.splits import split_72
from cicy4lib.training.config import TrainConfig

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from common import accuracy, score_run  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="HodgeGNN-64")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--budget-h", type=float, default=0.6)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    data = cicy4lib.load_dataset("generated-hodge-rule")
    split = split_72(len(data))
    cfg = TrainConfig.from_recipe(a.model, max_epochs=a.epochs, time_budget_h=a.budget_h, num_threads=a.threads)
    run = f"hodge_rule_{a.model}_e{a.epochs}"
    t0 = time.time()
    res = cicy4lib.train_model(a.model, data, split, cfg, output_dir=str(HERE / "runs"), run_name=run, progress=False)
    test = np.asarray(split.test)
    acc, pred = score_run(res.run_dir, data, test)
    rows = (data.conf[test] != 0).any(2).sum(1)
    y = data.hodge[test].astype(np.float64)
    fav = np.stack([rows, np.zeros_like(rows)], 1).astype(np.float64)
    fav_pred = np.concatenate([fav, np.zeros((len(rows), 2))], 1)
    fav_acc = accuracy(fav_pred, y, data.euler[test])
    by_rows = {}
    for r in np.unique(rows):
        sel = rows == r
        by_rows[int(r)] = {"n": int(sel.sum()),
                           "h11": round(100 * float(np.mean(np.rint(pred[sel, 0]) == y[sel, 0])), 2),
                           "h11_favourable_guess": round(100 * float(np.mean(rows[sel] == y[sel, 0])), 2)}
    out = {"model": a.model, "data": "generated-hodge-rule", "n": len(data), "n_train": len(split.train),
           "n_valid": len(split.valid), "n_test": len(test), "epochs": res.epochs, "best_epoch": res.best_epoch,
           "stopped": res.stopped, "train_seconds": round(res.seconds), "this_call_s": round(time.time() - t0),
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "load_average": open("/proc/loadavg").read().split()[:3],
           "command": f"python benchmarks/learning/train_hodge_rule.py --epochs {a.epochs} --budget-h {a.budget_h}",
           "test_accuracy_percent": acc, "favourable_guess_percent": fav_acc,
           "favourable_share_percent": round(100 * float(np.mean(rows == y[:, 0])), 2), "by_rows": by_rows}
    (Path(res.run_dir) / "test.json").write_text(json.dumps(out, indent=1))
    print("RESULT", json.dumps(out))


if __name__ == "__main__":
    main()
