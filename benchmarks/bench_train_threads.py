"""Intra-op threads for training: samples/s of an LSTM-448 step (batch 128) at each thread count,
with the other cores idle and with one busy process per extra core, next to what
:func:`cicy4lib.threads.probe_threads` and :func:`cicy4lib.threads.rule_threads` choose.

Rounds alternate between thread counts; the best round counts. Usage::

    python benchmarks/bench_train_threads.py [--model LSTM-448] [--steps 4] [--rounds 3] [--no-busy]

``--epoch-rows N``: instead, one epoch of the library trainer (paper recipe, ``train_model``) on N
configurations of the generated set, each run in a fresh process so that the library's default thread
choice (``num_threads=None``: :func:`cicy4lib.threads.configure_threads`) is what a user gets; the
default, forced 1 and forced 2 threads alternate over ``--rounds`` rounds, first with the other cores
as they are, then with one ``yes > /dev/null`` per extra core (killed afterwards). Reports each run's
training seconds and samples/s, the median per setting, its ratio to forced 2 threads, and the load
average around each setting::

    nice -n 5 python benchmarks/bench_train_threads.py --epoch-rows 864 --rounds 3
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def rates(model_name, counts, steps, rounds, batch):
    import torch

    from cicy4lib.models import build_model

    torch.manual_seed(0)
    model = build_model(model_name)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x, y = torch.rand(batch, 16, 20), torch.rand(batch, 4) * 10
    best = {n: 0.0 for n in counts}
    for r in range(rounds + 1):  # round 0 warms up
        for n in (counts if r % 2 else counts[::-1]):
            torch.set_num_threads(n)
            t0 = time.perf_counter()
            for _ in range(steps):
                loss = torch.nn.functional.huber_loss(model(x), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
            if r:
                best[n] = max(best[n], steps * batch / (time.perf_counter() - t0))
    return best


def one_epoch(model_name, rows, threads):
    """One epoch of the library trainer in this (fresh) process; ``threads`` None = the library's default."""
    import tempfile

    import numpy as np
    import torch

    import cicy4lib
    from cicy4lib.data.splits import Split, split_72
    from cicy4lib import threads as cthreads
    from cicy4lib.training.config import TrainConfig

    data = cicy4lib.load_dataset("generated")
    split = split_72(len(data))
    train = np.random.default_rng(0).permutation(split.train)[:rows]
    sub = Split(train, split.valid[: max(32, rows // 9)], split.test[:32], "bench")
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        res = cicy4lib.train_model(model_name, data, sub, TrainConfig(max_epochs=1, num_threads=threads),
                                   output_dir=out, run_name="t", progress=False)
        wall = time.perf_counter() - t0
    return {"threads_arg": threads, "train_seconds": round(float(res.history["seconds"].iloc[-1]), 2),
            "wall_s": round(wall, 2), "rows": rows, "release": data.provenance.get("release"),
            "threads_used": cthreads._configured, "torch_default": torch.get_num_threads()}


def epoch_rates(args):
    """Default vs forced 1 vs forced 2 threads, each one epoch in a fresh process; idle, then busy."""
    settings = [None, 1, 2]
    out = {}
    for condition in ("as_is", "busy"):
        busy = []
        if condition == "busy":
            busy = [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(max(1, (os.cpu_count() or 2) - 1))]
            time.sleep(5)
        try:
            runs = {str(t): [] for t in settings}
            loads = []
            for r in range(args.rounds):
                for t in (settings if r % 2 == 0 else settings[::-1]):
                    loads.append(os.getloadavg()[0])
                    cmd = [sys.executable, __file__, "--one-epoch", str(t), "--epoch-rows", str(args.epoch_rows),
                           "--model", args.model]
                    res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
                    res["samples_per_s"] = round(args.epoch_rows / res["train_seconds"], 1)
                    res["load1"] = os.getloadavg()[0]
                    runs[str(t)].append(res)
                    print(condition, json.dumps(res), flush=True)
        finally:
            for proc in busy:
                proc.kill()
                proc.wait()
        med = {t: sorted(x["samples_per_s"] for x in v)[len(v) // 2] for t, v in runs.items()}
        out[condition] = {"runs": runs, "median_samples_per_s": med,
                          "ratio_to_2_threads": {t: round(m / med["2"], 2) for t, m in med.items()},
                          "load1_range": [min(loads), max(loads)]}
        print(condition, "median samples/s", med, "ratio to forced 2 threads", out[condition]["ratio_to_2_threads"],
              "load1", out[condition]["load1_range"], flush=True)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="LSTM-448")
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--no-busy", action="store_true", help="skip the busy-machine measurement")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--epoch-rows", type=int, default=0, help="one trainer epoch on this many rows (see the docstring)")
    p.add_argument("--one-epoch", default=None, help=argparse.SUPPRESS)  # child process: None | 1 | 2
    args = p.parse_args(argv)
    if args.one_epoch is not None:
        print(json.dumps(one_epoch(args.model, args.epoch_rows, None if args.one_epoch == "None" else int(args.one_epoch))))
        return None
    if args.epoch_rows:
        print("machine:", json.dumps({"python": platform.python_version(), "platform": platform.platform(),
                                      "cpus": os.cpu_count(), "load_average": os.getloadavg(),
                                      "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}))
        out = epoch_rates(args)
        if args.json:
            args.json.write_text(json.dumps(out, indent=2, default=str))
        return out

    import torch

    from cicy4lib.threads import available_cpus, probe_threads, rule_threads

    cpus = available_cpus()
    counts = sorted({1, 2, 4, 8, cpus} & set(range(1, cpus + 1)))
    print("machine:", json.dumps({"python": platform.python_version(), "torch": torch.__version__,
                                  "platform": platform.platform(), "cpus": cpus,
                                  "load_average": os.getloadavg()}))
    print("command:", " ".join([Path(sys.argv[0]).name] + list(sys.argv[1:] if argv is None else argv)))
    out = {"idle": rates(args.model, counts, args.steps, args.rounds, args.batch_size)}
    probe = probe_threads()
    out["probe"] = probe
    out["rule"] = rule_threads()
    if not args.no_busy and cpus > 1:
        busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cpus - 1)]
        try:
            out["busy"] = rates(args.model, counts, args.steps, args.rounds, args.batch_size)
            out["probe_busy"] = probe_threads()
        finally:
            for proc in busy:
                proc.kill()
                proc.wait()
    for key in ("idle", "busy"):
        if key in out:
            print(f"{args.model} batch {args.batch_size}, {key:4s} ({'other cores idle' if key == 'idle' else f'{cpus - 1} busy process(es)'}): "
                  + ", ".join(f"{n} thread(s) {r:.0f} samples/s" for n, r in out[key].items()))
    print(f"probe picks {probe['threads']} (idle)"
          + (f", {out['probe_busy']['threads']} (busy)" if "probe_busy" in out else "")
          + f"; rule picks {out['rule']}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))
    return out


if __name__ == "__main__":
    main()
