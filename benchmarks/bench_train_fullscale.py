"""Full scale: a dataset of the real list's size in the Kaggle layout, loading memory and epoch time.

1. Writes (once) a synthetic Kaggle folder of 905,684 configurations -- ``conf_X{train,valid,test}.npy``
   float64 (n,16,20) divided by the maximum entry, ``hodge_y*.npy`` int64, split 652,092 / 72,455 /
   181,137 as published -- by tiling the embedded sample's genuine configurations and labels
   (2.3 GB of float64 on disk), written in chunks.
2. Loads it with ``cicy4lib.load_dataset(folder)`` in a fresh process and reports that process's
   peak resident memory, minus the same process's peak after only the imports. The Kaggle reader
   memory-maps the float64 files and converts each, chunk by chunk, into its slice of the int8
   array it allocates once (releasing the file pages it has read), so the increase should be near
   the int8 size (0.29 GB; 0.33 GB with the Hodge numbers, Euler numbers, IDs and flags the loaded
   dataset holds), not the float64 size (2.3 GB).
3. Times the trainer's epoch loop (:func:`cicy4lib.training.loop.train_epoch`, LSTM-448) over the full
   training set: on CPU a fraction of the epoch (``--steps``) extrapolated to the 652,092 samples,
   on CUDA (``--full-epoch``) a whole epoch; batch 128 (paper) and 512 (fast recipe).

Usage::

    python benchmarks/bench_train_fullscale.py --dir /tmp/kaggle_synth            # CPU
    python benchmarks/bench_train_fullscale.py --device cuda --full-epoch --amp    # GPU
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = {"train": 652_092, "valid": 72_455, "test": 181_137}  # 905,684 in all
FILES = {"train": ("conf_Xtrain", "hodge_ytrain"), "valid": ("conf_Xvalid", "hodge_yvalid"),
         "test": ("conf_Xtest", "hodge_ytest")}


def write_synthetic(folder: Path, chunk: int = 1 << 16, log=print) -> dict:
    """The Kaggle 72% files of a 905,684-entry dataset (tiled sample rows), float64 as published."""
    from cicy4lib.data import load_dataset

    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / "synthetic.json"
    if marker.exists():
        return json.loads(marker.read_text())
    sample = load_dataset("sample")
    conf, hodge = np.asarray(sample.conf), np.asarray(sample.hodge)
    top = float(conf.max())
    offset = 0
    t0 = time.perf_counter()
    for part, n in SIZES.items():
        conf_name, hodge_name = FILES[part]
        xs = np.lib.format.open_memmap(folder / f"{conf_name}.npy.tmp", mode="w+", dtype=np.float64,
                                       shape=(n, 16, 20))
        ys = np.lib.format.open_memmap(folder / f"{hodge_name}.npy.tmp", mode="w+", dtype=np.int64, shape=(n, 4))
        for start in range(0, n, chunk):
            rows = (np.arange(start, min(n, start + chunk)) + offset) % len(conf)
            xs[start:start + len(rows)] = conf[rows].astype(np.float64) / top
            ys[start:start + len(rows)] = hodge[rows]
        xs.flush()
        ys.flush()
        del xs, ys
        os.replace(folder / f"{conf_name}.npy.tmp", folder / f"{conf_name}.npy")
        os.replace(folder / f"{hodge_name}.npy.tmp", folder / f"{hodge_name}.npy")
        offset += n
    info = {"n": sum(SIZES.values()), "sizes": SIZES, "scale": top, "source": "embedded sample, tiled",
            "float64_bytes": sum(SIZES.values()) * 320 * 8, "int8_bytes": sum(SIZES.values()) * 320,
            "write_seconds": round(time.perf_counter() - t0, 1)}
    marker.write_text(json.dumps(info, indent=2))
    log(f"wrote {info['n']:,} configurations ({info['float64_bytes'] / 1e9:.2f} GB float64) in "
        f"{info['write_seconds']} s to {folder}")
    return info


_CHILD = r"""
import json, resource, sys, threading, time
sys.path.insert(0, {root!r})
peak_anon = [0]
def _anon():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    return 0
def _sample():
    while True:
        peak_anon[0] = max(peak_anon[0], _anon())
        time.sleep(0.005)
threading.Thread(target=_sample, daemon=True).start()
import numpy as np, torch
from cicy4lib.data import load_dataset
import cicy4lib.training.loop
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
if {load}:
    t0 = time.perf_counter()
    data = load_dataset({folder!r}, compute_euler={euler})
    seconds = time.perf_counter() - t0
    info = {{"n": len(data), "conf_dtype": str(data.conf.dtype), "conf_bytes": int(data.conf.nbytes),
             "data_bytes": int(sum(a.nbytes for a in (data.conf, data.hodge, data.euler, data.is_product, data.ids))),
             "splits": sorted(data.splits or {{}}), "load_seconds": round(seconds, 1)}}
else:
    info = {{}}
info["peak_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
time.sleep(0.05)
info["peak_anon_kb"] = max(peak_anon[0], _anon())
info["children_peak_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # forked Euler workers
info["imports_peak_kb"] = base
print("RESULT " + json.dumps(info))
"""


def load_memory(folder: Path, compute_euler: bool = True) -> dict:
    """Peak RSS of a fresh process that loads the folder, and of one that only imports.

    With ``compute_euler`` the reader computes χ for every row in forked worker processes; their
    peak RSS (``children_peak_bytes``, mostly pages shared copy-on-write with the parent) is
    reported separately."""
    out = {}
    for load in (False, True):
        code = _CHILD.format(root=str(ROOT), folder=str(folder), load=load, euler=compute_euler)
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env={**os.environ, "OMP_NUM_THREADS": "1"})
        line = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode or not line:
            raise RuntimeError(f"loading failed:\n{proc.stderr[-3000:]}")
        out["load" if load else "imports"] = json.loads(line[0][7:])
    peak = out["load"]["peak_kb"] * 1024
    base = out["imports"]["peak_kb"] * 1024
    anon = out["load"]["peak_anon_kb"] * 1024
    anon_base = out["imports"]["peak_anon_kb"] * 1024
    return {"peak_bytes": peak, "imports_peak_bytes": base, "increase_bytes": peak - base,
            "peak_anon_bytes": anon, "anon_increase_bytes": anon - anon_base,
            "children_peak_bytes": out["load"]["children_peak_kb"] * 1024, "compute_euler": compute_euler,
            **out["load"]}


def epoch_time(folder: Path, device: str, batches=(128, 512), steps: int = 40, full: bool = False,
               amp: bool = False, model_name: str = "LSTM-448") -> list[dict]:
    import torch

    from cicy4lib.data import load_dataset
    from cicy4lib.models import build_model
    from cicy4lib.training.config import TrainConfig
    from cicy4lib.training.device import amp_dtype, resolve_device
    from cicy4lib.training.epochs import device_tensors, make_optimizer, train_epoch
    from cicy4lib.training.seeding import seed_everything

    dev = resolve_device(device)
    data = load_dataset(folder, compute_euler=False)
    split = data.splits["72"]
    t0 = time.perf_counter()
    x, y = device_tensors(data, split.train, "train", dev)
    to_device_s = time.perf_counter() - t0
    results = []
    for batch in batches:
        seed_everything(0)
        model = build_model(model_name).to(dev)
        opt = make_optimizer(model, TrainConfig(lr=1e-3))
        dtype = amp_dtype(dev) if amp and dev.type == "cuda" else False
        scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
        perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(0)).to(dev)
        warm = perm[: 2 * batch]
        train_epoch(model, x, y, warm, batch_size=batch, optimizer=opt, amp=dtype, scaler=scaler, scale=data.scale)
        n = len(perm) if full else min(len(perm), steps * batch)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        train_epoch(model, x, y, perm[:n], batch_size=batch, optimizer=opt, amp=dtype, scaler=scaler,
                    scale=data.scale)
        if dev.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        rate = n / seconds
        results.append({"model": model_name, "batch": batch, "amp": str(dtype), "samples_timed": n,
                        "samples_per_s": round(rate, 1), "epoch_seconds": round(len(perm) / rate, 1),
                        "measured": "whole epoch" if n == len(perm) else f"{n} samples, extrapolated",
                        "to_device_seconds": round(to_device_s, 2)})
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", type=Path, default=Path("/tmp/cicy4_kaggle_synthetic"))
    p.add_argument("--device", default="cpu")
    p.add_argument("--steps", type=int, default=40, help="CPU: timed steps per batch size (extrapolated)")
    p.add_argument("--full-epoch", action="store_true", help="time a whole epoch (GPU)")
    p.add_argument("--amp", action="store_true", help="CUDA: bfloat16/float16 autocast")
    p.add_argument("--model", default="LSTM-448")
    p.add_argument("--skip-epoch", action="store_true")
    p.add_argument("--no-euler", action="store_true", help="load without computing χ (faster; Kaggle files lack it)")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args(argv)

    from cicy4lib.threads import configure_threads

    threads = configure_threads()
    import torch

    machine = {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
               "cpu_count": os.cpu_count(), "torch_threads": threads,
               "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    print("machine:", json.dumps(machine))
    print("command:", " ".join([Path(sys.argv[0]).name] + list(sys.argv[1:] if argv is None else argv)))
    info = write_synthetic(args.dir)
    mem = load_memory(args.dir, compute_euler=not args.no_euler)
    print(f"load: {mem['n']:,} configurations, conf {mem['conf_dtype']} {mem['conf_bytes'] / 1e9:.2f} GB, "
          f"splits {mem['splits']}, {mem['load_seconds']} s; peak RSS {mem['peak_bytes'] / 1e9:.2f} GB "
          f"(imports alone {mem['imports_peak_bytes'] / 1e9:.2f} GB): increase {mem['increase_bytes'] / 1e9:.2f} GB "
          f"vs int8 data {info['int8_bytes'] / 1e9:.2f} GB and float64 files {info['float64_bytes'] / 1e9:.2f} GB "
          f"(ratio to int8 {mem['increase_bytes'] / info['int8_bytes']:.2f}); of which process memory (RssAnon, "
          f"not file pages the memory map reads through, which the kernel can drop) "
          f"{mem['anon_increase_bytes'] / 1e9:.2f} GB (ratio to int8 {mem['anon_increase_bytes'] / info['int8_bytes']:.2f}; "
          f"the loaded dataset's arrays: {mem['data_bytes'] / 1e9:.2f} GB); "
          f"χ computed: {mem['compute_euler']}, "
          f"worker peak {mem['children_peak_bytes'] / 1e9:.2f} GB", flush=True)
    epochs = []
    if not args.skip_epoch:
        epochs = epoch_time(args.dir, args.device, steps=args.steps, full=args.full_epoch, amp=args.amp,
                            model_name=args.model)
        for e in epochs:
            print(f"epoch ({e['model']}, batch {e['batch']}, amp {e['amp']}): {e['samples_per_s']:.0f} samples/s -> "
                  f"{e['epoch_seconds']:.0f} s per 652,092-sample epoch ({e['measured']}); "
                  f"train set to device {e['to_device_seconds']} s", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "data": info, "memory": mem, "epochs": epochs},
                                        indent=2))
    return {"memory": mem, "epochs": epochs, "data": info}


if __name__ == "__main__":
    main()
