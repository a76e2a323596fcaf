"""Training throughput: cicy4lib's epoch loop vs the published notebooks' loop.

Both loops train the same model (same initial weights) on the same random CY-like data with
batch 128, AdamW and HuberLoss; only the loop differs:

- published: ``DataLoader(TensorDataset(X, y), batch_size=128, shuffle=True)`` over CPU tensors,
  each batch moved to the device, ``loss.item()`` every step summed into a Python float;
- ours: :func:`cicy4lib.training.loop.train_epoch`: data on the device once, a permutation per epoch,
  batches sliced by index, the loss summed on the device and read once, AdamW built as
  :func:`cicy4lib.training.loop.train` builds it (fused kernel; ``--plain-optimizer``: torch's default
  AdamW, to isolate the loop itself); inputs held as int8 and divided per batch, as the trainer does;
- ours_amp: the same with bfloat16 autocast (Ampere+ GPUs; CPUs with native bfloat16,
  AVX512-BF16/AMX, output layer in float32 as the trainer runs it) or float16 + GradScaler (older
  GPUs); absent on a CPU without native bfloat16;
- ours_fast: the fast recipe's batch (``--fast-batch``, 512), with autocast where ours_amp runs;
- published_default_threads (CPU): the published loop at torch's default thread count (one per
  CPU), which is what the notebooks get; every other variant runs at the count
  :func:`cicy4lib.threads.configure_threads` picks (or ``--threads``);
- ours_ddp (CPU, ``--ddp N``, default 2 where there are at least 2 CPUs): the second core used by
  data parallelism instead of intra-op threads: N spawned processes of one thread each, gloo,
  the trainer's DDP path (:func:`cicy4lib.training.distributed.wrap`, :func:`cicy4lib.training.distributed.shard`,
  ``train_epoch(loss_module=...)``), each rank ``batch_size // N`` samples of every global batch
  of ``--batch-size``; its rate is global samples/s. The ranks start once (outside the timing) and
  wait for each round's command, so their rounds alternate with the other variants' too.
  Measured on the 2-vCPU machine when otherwise idle (LSTM-448, CNN-LSTM-400): 1.3-1.8x ``ours``
  at one thread, but 0.7-1.0x the published loop at two intra-op threads; under load, below ``ours``.

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
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from cicy4lib.models import build_model  # noqa: E402
from cicy4lib.training.config import TrainConfig  # noqa: E402
from cicy4lib.training.device import float32_output, resolve_device  # noqa: E402
from cicy4lib.training.epochs import make_optimizer, train_epoch  # noqa: E402
from cicy4lib.training.seeding import seed_everything  # noqa: E402


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
    """cicy4lib's epoch loop (the same function :func:`cicy4lib.training.loop.train` runs; int8 inputs)."""
    perm = torch.randperm(len(x), generator=generator)
    if steps:
        perm = perm[: steps * batch_size]
    perm = perm.to(x.device)
    loss = train_epoch(model, x, y, perm, batch_size=batch_size, optimizer=optimizer, amp=amp, scaler=scaler,
                       scale=6.0)
    return loss, (len(perm) + batch_size - 1) // batch_size


def _ddp_rank(rank, world, init_file, name, init, x_int8, y, batch_size, plain_optimizer, commands, results):
    """One rank of ``ours_ddp``: the trainer's DDP loop, one thread; times the rounds it is told to run."""
    import torch.distributed as dist

    from cicy4lib.training import distributed as ddp

    try:
        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
        dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
        model = build_model(name)
        model.load_state_dict(init)
        opt = torch.optim.AdamW(model.parameters(), lr=0.01) if plain_optimizer else \
            make_optimizer(model, TrainConfig(lr=0.01))
        loss_module = ddp.wrap(model, 1.0, torch.device("cpu"))  # DDP(LossModule): what train() wraps
        generator = torch.Generator().manual_seed(0)  # the same permutations on every rank
        rank_batch = batch_size // world
        results.put((rank, "ready", torch.get_num_threads()))
        while True:
            steps = commands.get()
            if steps is None:
                break
            dist.barrier()
            t0 = time.perf_counter()
            perm = ddp.shard(torch.randperm(len(x_int8), generator=generator))
            if steps:
                perm = perm[: steps * rank_batch]
            train_epoch(model, x_int8, y, perm, batch_size=rank_batch, optimizer=opt, scale=6.0,
                        loss_module=loss_module)
            results.put((rank, time.perf_counter() - t0, len(perm)))
    except BaseException as e:  # noqa: BLE001 - reported to the parent, which stops the group
        results.put((rank, "error", repr(e)))
        raise
    finally:
        ddp.shutdown()


class DDPGroup:
    """``world`` spawned ranks of one thread each (gloo, a FileStore in a temp dir), kept for all rounds."""

    def __init__(self, world, name, init, x_int8, y, batch_size, plain_optimizer=False, timeout_s=600):
        import torch.multiprocessing as mp

        from cicy4lib.threads import thread_env

        if batch_size % world:
            raise ValueError(f"--batch-size {batch_size} is not divisible by --ddp {world}")
        self.world, self.timeout_s = world, timeout_s
        self._tmp = tempfile.TemporaryDirectory(prefix="bench_ddp_")
        ctx = mp.get_context("spawn")
        self.commands = [ctx.Queue() for _ in range(world)]
        self.results = ctx.Queue()
        # the children's thread count, fixed before they import torch (this process's is restored)
        with mock.patch.dict(os.environ, thread_env(1)):
            self.procs = [ctx.Process(target=_ddp_rank, daemon=True,
                                      args=(r, world, os.path.join(self._tmp.name, "store"), name, init, x_int8, y,
                                            batch_size, plain_optimizer, self.commands[r], self.results))
                          for r in range(world)]
            for proc in self.procs:
                proc.start()
        self.threads = [t for _, t in self._collect("ready")]

    def _collect(self, what):
        import queue

        got = {}
        deadline = time.monotonic() + self.timeout_s
        while len(got) < self.world:
            try:
                rank, a, b = self.results.get(timeout=5)
            except queue.Empty:
                dead = [p.exitcode for p in self.procs if not p.is_alive()]
                if dead or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"ours_ddp: ranks stopped (exit codes {dead}) waiting for {what}")
                continue
            if a == "error":
                self.close()
                raise RuntimeError(f"ours_ddp rank {rank} failed: {b}")
            got[rank] = (a, b)
        return [got[r] for r in range(self.world)]

    def run(self, steps):
        """Global samples/s of one round: ``steps`` global batches (0: one epoch), the slowest rank's time."""
        for q in self.commands:
            q.put(steps)
        out = self._collect("a round")
        return sum(n for _, n in out) / max(s for s, _ in out)

    def close(self):
        for q, proc in zip(self.commands, self.procs):
            if proc.is_alive():
                q.put(None)
        for proc in self.procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
        self._tmp.cleanup()


def bench_model(name, x_cpu, y_cpu, device, args):
    """Samples/s of each variant, best of alternating rounds.

    Variants: ``published`` (DataLoader + ``loss.item()`` per step, batch ``--batch-size``, torch's
    default AdamW, threads as set for the run), ``published_default_threads`` (CPU only, the same at
    torch's default thread count: what a user of the notebooks gets), ``ours`` (batch
    ``--batch-size``, float32), ``ours_amp`` (bfloat16/float16 autocast on CUDA, bfloat16 on a CPU
    that runs it natively), ``ours_fast`` (the fast recipe's batch ``--fast-batch``, with autocast
    where ours_amp runs), ``ours_ddp`` (CPU, ``--ddp N``
    ranks of one thread, global batch ``--batch-size``).
    """
    seed_everything(0, deterministic=not args.no_deterministic)
    init = build_model(name).state_dict()
    cuda = device.type == "cuda"
    from cicy4lib.training.device import amp_dtype

    amp = amp_dtype(device) or False  # None: a CPU without native bfloat16
    variants = {"published": (args.batch_size, False, None), "ours": (args.batch_size, False, None)}
    if not cuda and args.default_threads and args.default_threads != torch.get_num_threads():
        variants["published_default_threads"] = (args.batch_size, False, args.default_threads)
    if amp:
        variants["ours_amp"] = (args.batch_size, amp, None)
    if args.fast_batch:
        variants["ours_fast"] = (args.fast_batch, amp, None)
    if not cuda and args.ddp > 1:
        variants["ours_ddp"] = (args.batch_size, False, 1)
    models = {}
    for kind in variants:
        if kind == "ours_ddp":
            continue
        model = build_model(name)
        model.load_state_dict(init)
        model.to(device)
        if variants[kind][1]:
            float32_output(model)  # as the trainer runs autocast: exact-integer outputs
        plain = kind.startswith("published") or args.plain_optimizer
        opt = torch.optim.AdamW(model.parameters(), lr=0.01) if plain else \
            make_optimizer(model, TrainConfig(lr=0.01))
        models[kind] = (model, opt)

    loader = DataLoader(TensorDataset(x_cpu, y_cpu), batch_size=args.batch_size, shuffle=True)
    # ours: int8 matrices moved once, outside the timing (as the trainer does)
    x_dev, y_dev = torch.round(x_cpu * 6).to(torch.int8).to(device), y_cpu.to(device)
    generator = torch.Generator().manual_seed(0)
    scalers = {k: (torch.amp.GradScaler("cuda") if v[1] == torch.float16 else None) for k, v in variants.items()}
    base_threads = torch.get_num_threads()
    group = None
    if "ours_ddp" in variants:
        group = DDPGroup(args.ddp, name, init, torch.round(x_cpu * 6).to(torch.int8), y_cpu, args.batch_size,
                         plain_optimizer=args.plain_optimizer)

    def run(kind, steps):
        if kind == "ours_ddp":
            return group.run(steps)
        model, opt = models[kind]
        batch, amp_k, threads = variants[kind]
        if threads:
            torch.set_num_threads(threads)
        _sync(device)
        t0 = time.perf_counter()
        try:
            if kind.startswith("published"):
                _, n_batches = published_loop(model, loader, opt, device, steps)
            else:
                # the same number of samples per round for every batch size
                k_steps = max(1, steps * args.batch_size // batch) if steps else 0
                _, n_batches = our_loop(model, x_dev, y_dev, opt, generator, batch, k_steps, amp_k, scalers[kind])
            _sync(device)
        finally:
            torch.set_num_threads(base_threads)
        seconds = time.perf_counter() - t0
        samples = min(n_batches * batch, len(x_cpu))
        return samples / seconds

    try:
        for kind in variants:  # warm-up: allocator, kernels, autotuning
            run(kind, args.warmup)
        rates = {k: [] for k in variants}
        order = list(variants)
        for r in range(args.rounds):
            for kind in (order if r % 2 == 0 else order[::-1]):
                rates[kind].append(run(kind, args.steps))
    finally:
        if group is not None:
            group.close()
    best = {k: max(v) for k, v in rates.items()}
    median = {k: float(np.median(v)) for k, v in rates.items()}
    res = {"model": name, "samples_per_s": best, "rounds": rates,
           "published_samples_per_s": best["published"], "ours_samples_per_s": best["ours"],
           "ratio": best["ours"] / best["published"], "ratio_median": median["ours"] / median["published"]}
    res["ratios"] = {k: best[k] / best["published"] for k in best}
    if group is not None:
        res["ddp"] = {"ranks": group.world, "threads_per_rank": group.threads,
                      "batch_per_rank": args.batch_size // group.world, "backend": "gloo"}
    if "published_default_threads" in best:
        res["ratios_vs_default_threads"] = {k: best[k] / best["published_default_threads"] for k in best}
    return res


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
    p.add_argument("--amp", action="store_true", help="(kept for compatibility: CUDA always adds ours_amp)")
    p.add_argument("--fast-batch", type=int, default=512, help="ours_fast's batch (the fast recipe's; 0: skip)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch CPU threads (default: cicy4lib.threads.configure_threads)")
    p.add_argument("--default-threads", type=int, default=None,
                   help="CPU: also time the published loop at this thread count (default: torch's default)")
    p.add_argument("--ddp", type=int, default=None,
                   help="CPU: also time ours_ddp, N gloo ranks x 1 thread at the same global batch "
                        "(default 2 where there are at least 2 CPUs; 0 skips)")
    p.add_argument("--plain-optimizer", action="store_true", help="ours: torch's default AdamW, not fused")
    p.add_argument("--no-deterministic", action="store_true", help="cudnn.benchmark instead of deterministic")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = p.parse_args(argv)

    device = resolve_device(args.device)
    cuda = device.type == "cuda"
    args.n = args.n or (200_000 if cuda else 20_000)
    args.steps = (0 if cuda else 4) if args.steps is None else args.steps
    args.rounds = (3 if cuda else 6) if args.rounds is None else args.rounds
    from cicy4lib.threads import available_cpus, configure_threads

    if args.default_threads is None:
        args.default_threads = available_cpus()  # torch's own default: one thread per CPU
    if args.ddp is None:
        args.ddp = 2 if not cuda and available_cpus() >= 2 else 0
    configure_threads(args.threads)
    info = machine_info(device)
    print("machine:", json.dumps(info))
    print("command:", " ".join([Path(sys.argv[0]).name] + list(sys.argv[1:] if argv is None else argv)))
    print(f"data: {args.n} random CY-like samples, batch {args.batch_size}, "
          f"{'whole epochs' if not args.steps else f'{args.steps} steps'} x {args.rounds} rounds, amp={args.amp}, "
          f"ours' optimizer: {'torch default AdamW' if args.plain_optimizer else 'fused AdamW'}")

    x, y = random_cy_data(args.n)
    results = []
    for name in args.models:
        res = bench_model(name, x, y, device, args)
        results.append(res)
        print(f"{name:14s} " + "   ".join(f"{k} {v:8.0f}/s ({res['ratios'][k]:.2f}x)"
                                          for k, v in res["samples_per_s"].items())
              + f"   [ours/published median of rounds {res['ratio_median']:.2f}x]", flush=True)
        if "ratios_vs_default_threads" in res:
            print(f"{'':14s} vs published_default_threads: "
                  + "   ".join(f"{k} {v:.2f}x" for k, v in res["ratios_vs_default_threads"].items()), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": info, "args": {k: str(v) for k, v in vars(args).items()},
                                         "results": results}, indent=2))
    return results


if __name__ == "__main__":
    main()
