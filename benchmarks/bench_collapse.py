"""How often does a recipe leave the constant predictor in the demo's budget, and how often does
the network collapse (validation predictions the same for every row)?

Trains ``--model`` with ``--recipe`` for ``--epochs`` on ``--max-samples``-row draws of the data,
for every (draw seed, training seed) pair given, two processes side by side (one thread each),
and prints per pair: the best validation Huber loss (raw units) over the epochs divided by the
constant predictor's (the train means), the first epoch at which the network was collapsed
(``val_pred_spread`` below :data:`cicy4lib.training.config.COLLAPSE_SPREAD`), and the wall time.

    python benchmarks/bench_collapse.py --pairs 0:42 0:43 0:44 0:1 0:2 1:42 2:42 3:42

Measured on the 2-vCPU machine (README, *Measured here*), CNN-LSTM-400, the paper recipe, 8,000
generated configurations, 8 epochs: see the README row.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run_pair(data_seed, train_seed, model, recipe, epochs, max_samples, data_name, batch_size):
    """One training run on one draw; module level so worker processes can run it."""
    from cicy4lib.results.baselines import constant_loss
    from cicy4lib.data import load_dataset, subsample
    from cicy4lib.data.splits import get_split
    from cicy4lib.training.config import COLLAPSE_SPREAD, TrainConfig
    from cicy4lib.training.loop import train

    data = subsample(load_dataset(data_name), max_samples, seed=data_seed)
    split = get_split(data, "72")
    const = constant_loss(data, split)
    over = {"batch_size": batch_size} if batch_size else {}
    config = TrainConfig.from_recipe(recipe, max_epochs=epochs, device="cpu", seed=train_seed, **over)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the collapse warning: counted below
            res = train(model, data, split, config, output_dir=tmp, run_name="run", resume=False, progress=False)
    ratios = [float(v) / const for v in res.metrics["val_huber_raw"]]
    spreads = [float(v) for v in res.metrics["val_pred_spread"]]
    collapsed_at = next((i + 1 for i, v in enumerate(spreads) if v < COLLAPSE_SPREAD), None)
    return {"data_seed": data_seed, "seed": train_seed, "constant_val_huber": round(const, 3),
            "best_ratio": round(min(ratios), 3), "ratio_per_epoch": [round(r, 3) for r in ratios],
            "collapsed_at_epoch": collapsed_at, "wall_s": round(time.perf_counter() - t0, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="CNN-LSTM-400")
    parser.add_argument("--recipe", default="paper")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--max-samples", type=int, default=8000)
    parser.add_argument("--data", default="generated")
    parser.add_argument("--batch-size", type=int, default=None, help="override the recipe's batch")
    parser.add_argument("--pairs", nargs="+", default=["0:42", "0:43", "0:44", "1:42"],
                        help="DRAW_SEED:TRAIN_SEED pairs (draw seed 0 and train seed 42 are the demo's)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=None, help="also write the report as JSON here")
    args = parser.parse_args(argv)

    import torch

    from cicy4lib.threads import parallel_map

    pairs = [tuple(int(v) for v in p.split(":")) for p in args.pairs]
    machine = {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
               "cpus": __import__("os").cpu_count()}
    print("machine:", json.dumps(machine))
    print("command:", " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]))
    rows = parallel_map(run_pair, [(d, s, args.model, args.recipe, args.epochs, args.max_samples, args.data,
                                    args.batch_size) for d, s in pairs], workers=args.jobs, threads=1)
    for r in rows:
        flag = f"collapsed at epoch {r['collapsed_at_epoch']}" if r["collapsed_at_epoch"] else "not collapsed"
        print(f"draw {r['data_seed']} seed {r['seed']:3d}: best val Huber {r['best_ratio']:.3f}x the constant's "
              f"({r['constant_val_huber']}), {flag}, {r['wall_s']:.0f} s")
    learned = sum(r["best_ratio"] <= 0.8 for r in rows)
    collapsed = sum(r["collapsed_at_epoch"] is not None for r in rows)
    print(f"{args.model} / {args.recipe}, {args.epochs} epochs, {args.max_samples} rows of {args.data}: "
          f"{learned} of {len(rows)} runs below 0.8x the constant predictor's loss; {collapsed} collapsed")
    if args.out:
        Path(args.out).write_text(json.dumps({"machine": machine, "args": vars(args), "runs": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
