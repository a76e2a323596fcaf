"""Intra-op threads for training: samples/s of an LSTM-448 step (batch 128) at each thread count,
with the other cores idle and with one busy process per extra core, next to what
:func:`cicy4lib.threads.probe_threads` and :func:`cicy4lib.threads.rule_threads` choose.

Rounds alternate between thread counts; the best round counts. Usage::

    python benchmarks/bench_train_threads.py [--model LSTM-448] [--steps 4] [--rounds 3] [--no-busy]
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


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", default="LSTM-448")
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--no-busy", action="store_true", help="skip the busy-machine measurement")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)

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
