"""Does HodgeGNN-64 learn in the demo's budget? The demo's data (load_auto, 8,000 subset, 72 % split),
its epochs (8), batch --batch; test accuracy against the favourable guess.

    nice -n 10 .venv/bin/python benchmarks/learning/demo_probe.py --batch 64 [--epochs 8] [--lr 2e-3]
"""
import argparse, json, sys, time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=None)
    a = ap.parse_args()
    import cicy4lib
    from cicy4lib.data.choice import load_auto
    from cicy4lib.data.splits import split_72
    from cicy4lib.results.baselines import favourable_guess
    from cicy4lib.training.config import TrainConfig
    from common import accuracy, score_run
    data, _ = load_auto("auto", 8000)
    split = split_72(len(data))
    over = {"batch_size": a.batch, "max_epochs": a.epochs, "num_threads": 1}
    if a.lr:
        over["lr"] = a.lr
    cfg = TrainConfig.from_recipe("HodgeGNN-64", **over)
    t0 = time.time()
    run = f"demo_probe_b{a.batch}_e{a.epochs}" + (f"_lr{a.lr:g}" if a.lr else "")
    res = cicy4lib.train_model("HodgeGNN-64", data, split, cfg, output_dir=str(HERE / "runs"), run_name=run,
                               progress=False, resume=False, overwrite=True)
    acc = score_run(res.run_dir, data, split.test)[0]
    fav = accuracy(favourable_guess(data, split.test).astype(float), data.hodge[split.test].astype(float),
                   data.euler[split.test])
    out = {"data": data.provenance.get("source"), "release": data.provenance.get("release"), "n": len(data),
           "batch": a.batch, "epochs": res.epochs, "wall_s": round(time.time() - t0), "network": acc, "favourable": fav,
           "date": time.strftime("%Y-%m-%d %H:%M")}
    (HERE / "runs" / f"{run}.json").write_text(json.dumps(out, indent=1))
    print("RESULT", json.dumps(out))


if __name__ == "__main__":
    main()
