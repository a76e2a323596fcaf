"""Do redundant descriptions help as extra training data? (issue: data the way the list was built)

Trains one network twice on the same training configurations of the generated set (release 3, the
library's 72 % split, a seeded subset of ``--ntrain`` training rows): once plain, once with
``--per-entry`` redundant descriptions of every training configuration appended
(:func:`cicy4lib.data.redundant.with_redundant_training`: splittings with the configuration's Euler
*and* Hodge numbers, each labelled; validation and test untouched), the same recipe and epochs.
Prints test accuracies of both and writes them to ``--report`` (JSON). ``--plain-from REPORT`` takes
the plain run from an earlier report of the same command (fixed epochs and seeds: the plain run
does not depend on how the extra rows are made).

    nice .venv/bin/python benchmarks/bench_redundant_augmentation.py --ntrain 10000 --epochs 10
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

import cicy4lib
from cicy4lib.data.redundant import with_redundant_training
from cicy4lib.data.splits import Split, split_72
from cicy4lib.results.evaluate import evaluate
from cicy4lib.training.config import TrainConfig


def run(model, data, split, epochs, threads, out_dir, name):
    cfg = TrainConfig.from_recipe(model, max_epochs=epochs, num_threads=threads)
    t0 = time.time()
    res = cicy4lib.train_model(model, data, split, cfg, output_dir=str(out_dir), run_name=name, progress=False)
    table = evaluate(res.run_dir, data, split, subsets=("test",))
    acc = {f"{r.kind}_{r.target}": round(float(r.accuracy), 2) for r in table.itertuples()}
    return {"n_train": int(len(split.train)), "epochs": res.epochs, "seconds": round(time.time() - t0), "test": acc}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="HodgeGNN-64")
    ap.add_argument("--ntrain", type=int, default=10000)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--per-entry", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out-dir", default="bench_runs/redundant_augmentation")
    ap.add_argument("--report", default="benchmarks/results/redundant_augmentation.json")
    ap.add_argument("--plain-from", default=None)
    a = ap.parse_args()
    data = cicy4lib.load_dataset("generated")
    full = split_72(len(data))
    train = np.random.default_rng(0).permutation(full.train)[:a.ntrain]
    split = Split(np.sort(train), full.valid, full.test, "72")
    aug_data, aug_split = with_redundant_training(data, split, per_entry=a.per_entry, seed=0)
    out = {"model": a.model, "data": f"generated release {data.provenance.get('release')} ({len(data)} entries)",
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, torch threads {a.threads}",
           "command": "python benchmarks/bench_redundant_augmentation.py "
                      f"--model {a.model} --ntrain {a.ntrain} --epochs {a.epochs} --per-entry {a.per_entry}",
           "redundant_rows_added": int(aug_data.provenance["redundant_training_rows"]),
           "redundant_candidates": aug_data.provenance.get("redundant_candidates")}
    if a.plain_from:
        earlier = json.loads(Path(a.plain_from).read_text())
        if earlier.get("data") != out["data"] or not earlier["command"].startswith(out["command"].split(" --per-entry")[0]):
            raise SystemExit(f"{a.plain_from} is another command or data: {earlier.get('command')}, {earlier.get('data')}")
        out["plain"] = dict(earlier["plain"], taken_from=a.plain_from)
    else:
        out["plain"] = run(a.model, data, split, a.epochs, a.threads, a.out_dir, f"plain_n{a.ntrain}_e{a.epochs}")
    out["with_redundant"] = run(a.model, aug_data, aug_split, a.epochs, a.threads, a.out_dir,
                                f"redundant{a.per_entry}_n{a.ntrain}_e{a.epochs}")
    Path(a.report).parent.mkdir(parents=True, exist_ok=True)
    Path(a.report).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
