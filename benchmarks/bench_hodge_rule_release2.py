"""Release 2 under the rule "same manifold = same Euler number AND same Hodge numbers".

Release 2 (``load_dataset("generated-r2")``, 250,487 entries) holds 200,382 entries that the Euler
rule marks redundant: some contraction has their χ (mask: benchmarks/learning/r2_redundant_mask.npy,
made by make_r2_mask.py). ``bench_redundancy_rule.py`` shows that many of those contractions are
other manifolds (other h11). This script judges every such entry by all its χ-equal contractions
(:func:`cicy4lib.geometry.equivalence.contraction_verdicts`) and writes one verdict per entry:

    0  minimal under the Euler rule (no contraction keeps χ)
    1  redundant: some contraction has the same χ and the same Hodge numbers
    2  distinct: every χ-equal contraction has other Hodge numbers (a manifold the Euler rule drops)
    3  undetermined: no contraction with the same Hodge numbers, and at least one could not be labelled

    nice -n 10 python benchmarks/bench_hodge_rule_release2.py [--block 2000] [--limit N]

Resumable: blocks are written to benchmarks/results/hodge_rule_r2/<all|sample_N>/block_*.npy as
they finish; a finished block is skipped. The summary (counts, rows, Hodge means, favourable share
beside the list's statistics of SPEC §1) goes to summary.json beside them; a run over every entry
also writes the verdicts to cicy4lib/_data/generated/hodge_rule.npz (what
``load_dataset("generated-hodge-rule")`` serves).
"""
import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from cicy4lib.geometry.equivalence import contraction_verdicts

HERE = Path(__file__).parent
OUT = HERE / "results" / "hodge_rule_r2"
MASK = HERE / "learning" / "r2_redundant_mask.npy"


def block_verdicts(conf, euler, hodge, timeout):
    v = contraction_verdicts(list(conf), euler, hodge, timeout)
    out = np.full(len(conf), 2, np.int8)
    for k in range(len(conf)):
        if v["same"][k]:
            out[k] = 1
        elif v["unlabelled"][k]:
            out[k] = 3
    return out


def summary(data, redundant, verdict):
    rows = (np.asarray(data.conf) != 0).any(2).sum(1)
    done = verdict >= 0
    kinds = {"minimal (Euler rule)": (~redundant) & done, "distinct (Hodge rule keeps)": (verdict == 2),
             "redundant (same Hodge numbers)": verdict == 1, "undetermined": verdict == 3}
    out = {}
    for name, sel in kinds.items():
        if not sel.any():
            out[name] = {"n": 0}
            continue
        h = data.hodge[sel]
        out[name] = {"n": int(sel.sum()), "rows_mean": round(float(rows[sel].mean()), 2),
                     "rows_max": int(rows[sel].max()),
                     "rows": {int(r): int(c) for r, c in zip(*np.unique(rows[sel], return_counts=True))},
                     "h11_mean": round(float(h[:, 0].mean()), 2), "h21_mean": round(float(h[:, 1].mean()), 3),
                     "favourable_pct": round(100 * float((h[:, 0] == rows[sel]).mean()), 2),
                     "h11_below_rows": int((h[:, 0] < rows[sel]).sum())}
    both = ((~redundant) & done) | (verdict == 2)
    h = data.hodge[both]
    out["kept by the Hodge rule (minimal + distinct)"] = {
        "n": int(both.sum()), "rows_mean": round(float(rows[both].mean()), 2),
        "rows": {int(r): int(c) for r, c in zip(*np.unique(rows[both], return_counts=True))},
        "h11_mean": round(float(h[:, 0].mean()), 2), "favourable_pct": round(100 * float((h[:, 0] == rows[both]).mean()), 2)}
    out["list (SPEC §1)"] = {"rows_mean": 8.97, "h11_mean": 10.07, "h21_mean": 0.82, "favourable_pct": 54.49}
    out["judged"] = int((verdict[redundant] >= 0).sum())
    out["of_redundant"] = int(redundant.sum())
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--block", type=int, default=2000)
    ap.add_argument("--sample", type=int, default=None,
                    help="judge a seeded random N of the redundant entries (the summary then counts only those)")
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--reverse", action="store_true",
                    help="judge the blocks from the last one back (a second process shares the work)")
    a = ap.parse_args()
    import cicy4lib
    data = cicy4lib.load_dataset("generated-r2")
    redundant = np.load(MASK)
    idx = np.flatnonzero(redundant)
    if a.sample:
        idx = np.sort(np.random.default_rng(0).choice(idx, size=a.sample, replace=False))
    out_dir = OUT / (f"sample_{a.sample}" if a.sample else "all")
    out_dir.mkdir(parents=True, exist_ok=True)
    verdict = np.full(len(redundant), -1, np.int8)
    verdict[~redundant] = 0
    t0 = time.time()
    blocks = list(enumerate(range(0, len(idx), a.block)))
    for b, lo in (blocks[::-1] if a.reverse else blocks):
        path = out_dir / f"block_{a.block}_{b:04d}.npy"
        sel = idx[lo:lo + a.block]
        if path.exists():
            verdict[sel] = np.load(path)
            continue
        t = time.time()
        got = block_verdicts(data.conf[sel], data.euler[sel], data.hodge[sel], a.timeout)
        tmp = path.with_name(path.name + ".tmp.npy")
        np.save(tmp, got)
        os.replace(tmp, path)
        verdict[sel] = got
        print(f"block {b}: {np.bincount(got, minlength=4).tolist()} in {time.time() - t:.0f} s", flush=True)
    if a.sample:  # only the judged ones count; the Euler-minimal entries stay in the summary as they are
        redundant = redundant & (verdict >= 0)
    s = summary(data, redundant, verdict)
    s.update(command="python benchmarks/bench_hodge_rule_release2.py" + (f" --sample {a.sample}" if a.sample else ""),
             date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), seconds_this_run=round(time.time() - t0),
             load_average=open("/proc/loadavg").read().split()[:3])
    (out_dir / "summary.json").write_text(json.dumps(s, indent=1) + "\n")
    if not a.sample:  # every entry judged: the verdicts load_dataset("generated-hodge-rule") serves by
        from cicy4lib.data.generated import GENERATED_R2_DIR, write_hodge_rule
        print("wrote", write_hodge_rule(verdict, GENERATED_R2_DIR, meta=s))
    print(json.dumps(s, indent=1))


if __name__ == "__main__":
    main()
