"""The long run of the winning network through the library's trainer (resumable: rerun the same command).

    nice -n 10 .venv/bin/python benchmarks/learning/train_final.py --data r2nr --epochs 40 --budget-h 0.9 \
        [--model HodgeGNN-64] [--ntrain N] [--run NAME] [--threads 1]

data: r2nr = release 2's non-redundant entries (mask r2_redundant_mask.npy), r3 = load_dataset("generated")
after release 3 lands. Split: the library's 72 % split (seed 42) over those entries. Recipe:
TrainConfig.from_recipe(<model>) with max_epochs=--epochs (one-cycle over them) and a wall-clock safety
budget. Run dir: benchmarks/learning/runs/<run>/ (model.pt, model.json, state.pt, log.csv); the test
accuracies of the best-validation epoch go to <run>/test.json.
"""
import argparse, json, sys, time
from pathlib import Path

import numpy as np

import cicy4lib
from cicy4lib.training.config import TrainConfig

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from prep import load  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="r2nr")
    ap.add_argument("--model", default="HodgeGNN-64")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--budget-h", type=float, default=0.9)
    ap.add_argument("--ntrain", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--run", default=None)
    ap.add_argument("--recipe", default=None, help="default: the model's own recipe")
    ap.add_argument("--batch", type=int, default=None)
    ap.add_argument("--lr", type=float, default=None)
    a = ap.parse_args()
    data = load(a.data)
    from cicy4lib.data.splits import split_72, Split
    split = split_72(len(data))
    if a.ntrain:
        split = Split(np.random.default_rng(0).permutation(split.train)[:a.ntrain], split.valid, split.test, "72")
    over = {"max_epochs": a.epochs, "time_budget_h": a.budget_h, "num_threads": a.threads}
    if a.batch:
        over["batch_size"] = a.batch
    if a.lr:
        over["lr"] = a.lr
    cfg = TrainConfig.from_recipe(a.recipe or a.model, **over)
    run = a.run or f"{a.data}_{a.model}_e{a.epochs}" + (f"_n{a.ntrain}" if a.ntrain else "")
    t0 = time.time()
    res = cicy4lib.train_model(a.model, data, split, cfg, output_dir=str(HERE / "runs"), run_name=run, progress=False)
    from common import score_run
    acc = {f"valid_{k}": v for k, v in score_run(res.run_dir, data, split.valid)[0].items()}
    acc.update({f"test_{k}": v for k, v in score_run(res.run_dir, data, split.test)[0].items()})
    out = {"model": a.model, "data": a.data, "n_train": len(split.train), "n_valid": len(split.valid),
           "n_test": len(split.test), "epochs": res.epochs, "best_epoch": res.best_epoch, "stopped": res.stopped,
           "train_seconds": round(res.seconds), "this_call_s": round(time.time() - t0), "recipe": cfg.recipe(),
           "date": time.strftime("%Y-%m-%d %H:%M"), "accuracy_percent": acc}
    (Path(res.run_dir) / "test.json").write_text(json.dumps(out, indent=1))
    print("RESULT", json.dumps(out))


if __name__ == "__main__":
    main()
