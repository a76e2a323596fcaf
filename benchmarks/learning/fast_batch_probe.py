"""The fast recipe's batch before/after it adapted to the training set: one network, n training rows of
release 3 (72 % split's training part, seed-0 draw), the same epochs, fixed batch 512 vs the adaptive
batch (recipes.fast_batch_size). Reports the losses relative to the constant predictor's (the training
mean, in the recipe's standardised units), and validation accuracy.

    nice -n 5 .venv/bin/python benchmarks/learning/fast_batch_probe.py --model CNN-LSTM-256 --n 8640 --epochs 6
"""
import argparse, json, sys, time
from pathlib import Path

import numpy as np
import torch

import cicy4lib
from cicy4lib.data.splits import Split, split_72
from cicy4lib.training.config import TrainConfig

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from prep import load  # noqa: E402


def constant_loss(y_fit_rows, y_rows):
    """Huber(δ=1) of the constant predictor (the training mean) on y_rows, in units standardised by y_fit_rows."""
    m, s = y_fit_rows.mean(0), y_fit_rows.std(0, unbiased=False)
    z = (y_rows - m) / s
    return torch.nn.functional.huber_loss(z, torch.zeros_like(z)).item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="CNN-LSTM-256")
    ap.add_argument("--n", type=int, default=8640)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batches", nargs="+", default=["512", "adaptive"])
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    data = load("r3")
    split = split_72(len(data))
    train_idx = np.random.default_rng(0).permutation(split.train)[:a.n]
    sub = Split(train_idx, split.valid, split.test, "72")
    y_tr = torch.from_numpy(data.hodge[train_idx].astype(np.float32))
    y_va = torch.from_numpy(data.hodge[split.valid].astype(np.float32))
    const_train, const_val = constant_loss(y_tr, y_tr), constant_loss(y_tr, y_va)
    out_dir = HERE / "runs" / "fast_batch_probe"
    rows = []
    for b in a.batches:
        over = {} if b == "adaptive" else {"batch_size": int(b)}
        cfg = TrainConfig.fast(max_epochs=a.epochs, num_threads=a.threads, **over)
        load0 = open("/proc/loadavg").read().split()[:3]
        t0 = time.time()
        res = cicy4lib.train_model(a.model, data, sub, cfg, output_dir=str(out_dir),
                                   run_name=f"{a.model}_n{a.n}_e{a.epochs}_b{b}", progress=False)
        meta = json.loads((res.run_dir / "model.json").read_text())
        h = res.history
        best = int(h["val_loss"].idxmin())
        rec = {"model": a.model, "n_train": a.n, "epochs": res.epochs, "batch": b,
               "batch_size": meta["recipe"]["batch_size"], "lr": meta["recipe"]["lr"],
               "steps": res.epochs * -(-a.n // meta["recipe"]["batch_size"]),
               "train_loss_last_over_constant": round(float(h["train_loss"].iloc[-1]) / const_train, 3),
               "val_loss_best_over_constant": round(float(h["val_loss"].min()) / const_val, 3),
               "val_acc_h11": float(res.metrics["val_acc_h11"].iloc[best]),
               "val_acc_h21": float(res.metrics["val_acc_h21"].iloc[best]),
               "seconds": round(res.seconds), "wall_s": round(time.time() - t0), "threads": a.threads,
               "date": time.strftime("%Y-%m-%d %H:%M"), "loadavg_start": load0,
               "loadavg_end": open("/proc/loadavg").read().split()[:3]}
        print("ROW", json.dumps(rec), flush=True)
        rows.append(rec)
    (out_dir / f"{a.model}_n{a.n}_e{a.epochs}.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
