"""Learning curve: test accuracy vs training configurations for HodgeGNN-64 (its recipe) and LSTM-448
(fast recipe) at the same wall-clock budget per point, through the library's trainer.

    nohup nice -n 5 .venv/bin/python benchmarks/learning/learning_curve.py --data r3 --sizes 10000 0 20000 \
        --minutes 15 --threads 1 > benchmarks/learning/runs/curve_r3.log 2>&1 &

``--data``: a name of prep.py (``r3`` = release 3, ``load_dataset("generated")``; ``r2nr``; ...).
``--out``: the run folder under runs/ (default ``curve_<data>``; the shipped LSTM-type checkpoints
came from ``--models LSTM-424 CNN-LSTM-400 LSTM-448 --sizes 10000 --minutes 30 --out ship_r3.0 --data r3.0``).
``--sizes``: training rows per point, drawn from the 72 % split's training part (seed 0); 0 or a
size above it means the whole training part. Sizes run in the order given, models in the order
given (HodgeGNN-64 first). HodgeGNN-64 trains with its own recipe; LSTM-448 with the fast recipe at
its adaptive batch (``recipes.fast_batch_size``: clip(n // 200, 32, 512), lr by the square-root rule).

Per point: a pilot run of 2 (LSTM) or 3 (HodgeGNN) epochs (same model, rows, recipe; thrown away)
gives the seconds an epoch takes here now, validation included (mean over the pilot's epochs after
the first, which carries one-time set-up: a one-epoch pilot planned 10.4 of 15 minutes for
HodgeGNN); the epochs are chosen so that the run fills the budget (the one-cycle schedules end
annealed), and time_budget_h = cap x budget stops a run that falls behind (the load changes). A timing of a few steps alone was too noisy on the shared machine: it planned 9
minutes of LSTM-448 for a 15-minute point. Each point records its load average before and after.
Resumable: finished points are read from runs/curve_<data>/<model>_n<size>/test.json and skipped.
"""
import argparse, dataclasses, json, shutil, sys, time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from prep import load  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="r2nr")
    ap.add_argument("--sizes", type=int, nargs="+", default=[5000, 10000, 20000])
    ap.add_argument("--minutes", type=float, default=5)
    ap.add_argument("--models", nargs="+", default=["HodgeGNN-64", "LSTM-448"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None, help="run folder under runs/ (default curve_<data>)")
    ap.add_argument("--cap", type=float, default=1.25, help="time_budget_h = cap x minutes (a run that falls behind stops)")
    a = ap.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    import cicy4lib
    from cicy4lib.data.splits import Split, split_72
    from common import score_run
    from cicy4lib.training.config import TrainConfig
    from cicy4lib.training.recipes import fast_batch_size
    data = load(a.data)
    split = split_72(len(data))
    prov = data.provenance if isinstance(data.provenance, dict) else {}
    print("data", a.data, len(data), "release", prov.get("release"), "split", split.sizes, flush=True)
    out_dir = HERE / "runs" / (a.out or f"curve_{a.data}")
    for n in a.sizes:
        n = len(split.train) if n <= 0 or n > len(split.train) else n
        train_idx = np.random.default_rng(0).permutation(split.train)[:n]
        sub = Split(train_idx, split.valid, split.test, "72")
        for model in a.models:
            run = f"{model}_n{n}"
            done = out_dir / run / "test.json"
            if done.exists():
                print("done", run, flush=True)
                continue
            recipe = model if model.startswith("HodgeGNN") else "fast"
            load0 = open("/proc/loadavg").read().split()[:3]
            cfg = TrainConfig.from_recipe(recipe, num_threads=a.threads)
            if recipe == "fast":  # adaptive batch, lr by the square-root rule (from_recipe rescales it)
                cfg = TrainConfig.from_recipe("fast", batch_size=fast_batch_size(n), num_threads=a.threads)
            pilot_epochs = 3 if recipe != "fast" else 2  # HodgeGNN's first two epochs run ~1.5x slower than the rest
            pilot = cicy4lib.train_model(model, data, sub, dataclasses.replace(cfg, max_epochs=pilot_epochs),
                                         output_dir=str(out_dir / "_pilot"), run_name=run, resume=False, overwrite=True,
                                         progress=False)
            epoch_s = float(pilot.history["seconds"].iloc[1:].mean())  # the first epoch carries one-time set-up
            shutil.rmtree(out_dir / "_pilot" / run, ignore_errors=True)
            rate = n / epoch_s  # samples/s with validation and bookkeeping
            epochs = int(max(2, min(200, round(a.minutes * 60 / epoch_s))))
            cfg = TrainConfig.from_recipe(recipe, **{**({"batch_size": cfg.batch_size} if recipe == "fast" else {}),
                                                     "max_epochs": epochs, "patience": 1000,
                                                     "time_budget_h": a.minutes * a.cap / 60, "num_threads": a.threads})
            print(run, time.strftime("%H:%M:%S"), f"batch {cfg.batch_size} lr {cfg.lr:.2e}",
                  f"{rate:.0f} samples/s -> {epochs} epochs, load {load0}", flush=True)
            t0 = time.time()
            res = cicy4lib.train_model(model, data, sub, cfg, output_dir=str(out_dir), run_name=run, progress=False)
            acc = score_run(res.run_dir, data, sub.test)[0]
            rec = {"model": model, "recipe": cfg.recipe_name, "n_train": n, "epochs": res.epochs, "planned_epochs": epochs,
                   "best_epoch": res.best_epoch, "stopped": res.stopped, "train_seconds": round(res.seconds),
                   "wall_s": round(time.time() - t0), "budget_min": a.minutes, "date": time.strftime("%Y-%m-%d %H:%M"),
                   "batch_size": cfg.batch_size, "lr": cfg.lr, "pilot_epoch_s": round(epoch_s, 1),
                   "threads": a.threads, "data": a.data, "release": prov.get("release"), "n_data": len(data),
                   "loadavg_start": load0, "loadavg_end": open("/proc/loadavg").read().split()[:3],
                   "test_accuracy_percent": acc}
            done.write_text(json.dumps(rec, indent=1))
            print("POINT", json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
