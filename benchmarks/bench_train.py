"""Training throughput: cicy4lib's epoch loop vs the published notebooks' loop.

Both loops train the same model (same initial weights) on the same random CY-like data with
batch 128, AdamW and HuberLoss; only the loop differs:

- published: ``DataLoader(TensorDataset(X, y), batch_size=128, shuffle=True)`` over CPU tensors,
  each batch moved to the device, ``loss.item()`` every step summed into a Python float;
- ours: :func:`cicy4lib.train.train_epoch`: data on the device once, a permutation per epoch,
  batches sliced by index, the loss summed on the device and read once, AdamW built as
  :func:`cicy4lib.train.train` builds it (fused kernel; ``--plain-optimizer``: torch's default
  AdamW, to isolate the loop itself), ``--amp``: float16 autocast on CUDA.

Short rounds alternate between the two loops, so a busy (shared) machine slows both alike;
the best round of each counts (the least disturbed estimate). Usage::

    python benchmarks/bench_train.py                       # CPU: 6 alternating rounds of 4 steps each
    python benchmarks/bench_train.py --device cuda --amp   # GPU: full epochs over --n samples
    python benchmarks/bench_train.py --models LSTM-448 --steps 0 --n 5000 --json out.json

``--steps 0`` times whole epochs over ``--n`` samples.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cicy4lib.models import build_model  # noqa: E402
from cicy4lib.train import TrainConfig, make_optimizer, resolve_device, seed_everything, train_epoch  # noqa: E402


def random_cy_data(n: int, seed: int = 0):
    """Padded degree matrices (entries 0..6 in a random top-left block) / 6 and Hodge-like targets."""
    rng = np.random.default_rng(seed)
    conf = np.zeros((n, 16, 20), dtype=np.float32)
    rows, cols = rng.integers(1, 17, size=n), rng.integers(1, 21, size=n)
    for i in range(n):
        conf[i, : rows[i], : cols[i]] = rng.integers(0, 3, size=(rows[i], cols[i]))
    conf /= 6.0
    hodge = np.stack([rng.integers(1, 25, n), rng.integers(0, 34, n), rng.integers(20, 427, n),
                      rng.integers(204, 1753, n)], axis=1).astype(np.float32)
    return torch.from_numpy(conf), torch.from_numpy(hodge)


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def published_loop(model, loader, optimizer, device, steps):
    """The notebooks' training loop (one epoch, or ``steps`` batches of it)."""
    criterion = torch.nn.HuberLoss()
    model.train()
    running_loss, n_batches = 0.0, 0
    for i, (inputs, targets) in enumerate(loader):
        if steps and i == steps:
            break
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, targets)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        n_batches += 1
    return running_loss / n_batches, n_batches


def our_loop(model, x, y, optimizer, generator, batch_size, steps, amp, scaler):
    """cicy4lib's epoch loop (the same function :func:`cicy4lib.train.train` runs)."""
    perm = torch.randperm(len(x), generator=generator)
    if steps:
        perm = perm[: steps * batch_size]
    perm = perm.to(x.device)
    loss = train_epoch(model, x, y, perm, batch_size=batch_size, optimizer=optimizer, amp=amp, scaler=scaler)
    return loss, (len(perm) + batch_size - 1) // batch_size


def bench_model(name, x_cpu, y_cpu, device, args):
    seed_everything(0, deterministic=not args.no_deterministic)
    init = build_model(name).state_dict()
    models = {}
    for kind in ("published", "ours"):
        model = build_model(name)
        model.load_state_dict(init)
        model.to(device)
        # published: AdamW as the notebooks build it; ours: as cicy4lib.train builds it
        plain = kind == "published" or args.plain_optimizer
        opt = torch.optim.AdamW(model.parameters(), lr=0.01) if plain else \
            make_optimizer(model, TrainConfig(lr=0.01))
        models[kind] = (model, opt)

    loader = DataLoader(TensorDataset(x_cpu, y_cpu), batch_size=args.batch_size, shuffle=True)
    x_dev, y_dev = x_cpu.to(device), y_cpu.to(device)  # ours: moved once, outside the timing
    generator = torch.Generator().manual_seed(0)
    amp = args.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda") if amp else None

    def run(kind, steps):
        model, opt = models[kind]
        _sync(device)
        t0 = time.perf_counter()
        if kind == "published":
            _, n_batches = published_loop(model, loader, opt, device, steps)
        else:
            _, n_batches = our_loop(model, x_dev, y_dev, opt, generator, args.batch_size, steps, amp, scaler)
        _sync(device)
        seconds = time.perf_counter() - t0
        samples = min(n_batches * args.batch_size, len(x_cpu))
        return samples / seconds

    for kind in ("published", "ours"):  # warm-up: allocator, kernels, autotuning
        run(kind, args.warmup)
    rates = {"published": [], "ours": []}
    for r in range(args.rounds):
        order = ("published", "ours") if r % 2 == 0 else ("ours", "published")
        for kind in order:
            rates[kind].append(run(kind, args.steps))
    best = {k: max(v) for k, v in rates.items()}
    median = {k: float(np.median(v)) for k, v in rates.items()}
    return {"model": name, "published_samples_per_s": best["published"], "ours_samples_per_s": best["ours"],
            "ratio": best["ours"] / best["published"], "ratio_median": median["ours"] / median["published"],
            "rounds": rates}


def machine_info(device):
    info = {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
            "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(), "device": str(device),
            "processor": platform.processor() or platform.machine()}
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
        info["cuda"] = torch.version.cuda
        info["cudnn"] = torch.backends.cudnn.version()
    return info


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--models", nargs="+", default=["LSTM-448", "CNN-LSTM-400"])
    p.add_argument("--n", type=int, default=None, help="samples (default 20000 on CPU, 200000 on CUDA)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=None,
                   help="timed batches per round; 0 = whole epochs (default 4 on CPU, 0 on CUDA)")
    p.add_argument("--warmup", type=int, default=2, help="warm-up batches per loop")
    p.add_argument("--rounds", type=int, default=None,
                   help="timed rounds per loop, alternating; the best counts (default 6 on CPU, 3 on CUDA)")
    p.add_argument("--amp", action="store_true", help="ours: float16 autocast on CUDA")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--plain-optimizer", action="store_true", help="ours: torch's default AdamW, not fused")
    p.add_argument("--no-deterministic", action="store_true", help="cudnn.benchmark instead of deterministic")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args(argv)

    device = resolve_device(args.device)
    cuda = device.type == "cuda"
    args.n = args.n or (200_000 if cuda else 20_000)
    args.steps = (0 if cuda else 4) if args.steps is None else args.steps
    args.rounds = (3 if cuda else 6) if args.rounds is None else args.rounds
    if args.threads:
        torch.set_num_threads(args.threads)
    info = machine_info(device)
    print("machine:", json.dumps(info))
    print(f"data: {args.n} random CY-like samples, batch {args.batch_size}, "
          f"{'whole epochs' if not args.steps else f'{args.steps} steps'} x {args.rounds} rounds, amp={args.amp}, "
          f"ours' optimizer: {'torch default AdamW' if args.plain_optimizer else 'fused AdamW'}")

    x, y = random_cy_data(args.n)
    results = []
    for name in args.models:
        res = bench_model(name, x, y, device, args)
        results.append(res)
        print(f"{name:14s} published {res['published_samples_per_s']:9.0f} samples/s   "
              f"ours {res['ours_samples_per_s']:9.0f} samples/s   ratio {res['ratio']:.2f}x "
              f"(median of rounds {res['ratio_median']:.2f}x)", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "args": {k: str(v) for k, v in vars(args).items()},
                                         "results": results}, indent=2))
    return results


if __name__ == "__main__":
    main()
