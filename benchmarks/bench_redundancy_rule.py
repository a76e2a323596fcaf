"""Is "same Euler number" the same manifold for four-folds? Contractions with equal chi, labelled.

A contraction along a row P^n of n + 1 ones gives a smaller configuration; for three-folds equal
Euler numbers mean the splitting is ineffective (the same manifold). For four-folds the singular
locus of the contraction is a curve, and a curve can have Euler number 0, so equal chi need not
mean the same manifold. This script labels both sides of chi-equal contractions exactly
(:func:`cicy4lib.geometry.labelling.label_with_limit`) and counts where the Hodge numbers differ:
h11 = b2 and h21 = b3/2 are topological invariants, so a difference proves two manifolds.

    python benchmarks/bench_redundancy_rule.py [--n 200] [--seed 0] [--out benchmarks/results/redundancy_rule.json]

Sources: (1) release 2 entries that the chi rule marks redundant (``generated-r2``, mask in
benchmarks/learning/r2_redundant_mask.npy when present, else recomputed on the sample);
(2) random splittings of release-3 entries (``ineffective_splittings``: the opt-in augmentation).
"""
import argparse
import json
import platform
import time
from collections import Counter
from pathlib import Path

import numpy as np

from cicy4lib.geometry.equivalence import contraction_verdicts
from cicy4lib.geometry.euler import euler_numbers
from cicy4lib.geometry.labelling import label_with_limit
from cicy4lib.geometry.splitting import _padded, _trim, contractions, ineffective_rows, ineffective_splittings

HERE = Path(__file__).parent


def chi_equal_contractions(P, chi):
    """(row, contracted matrix) for each contraction of P with P's Euler number."""
    smaller = dict(contractions(P))
    return [(i, smaller[i]) for i in ineffective_rows([P], [chi])[0]]


def compare(pairs, timeout):
    """Label each (bigger, hodge or None, smaller, chi); count same / different Hodge numbers."""
    c, rows = Counter(), Counter()
    examples = []
    for P, h, Q, chi in pairs:
        if h is None:
            h, _ = label_with_limit(P, timeout, euler=chi)
        hq, _ = label_with_limit(Q, timeout, euler=chi)
        if h is None or hq is None:
            c["unlabelled"] += 1
            continue
        same = tuple(h) == tuple(hq)
        c["same"] += same
        c["different"] += not same
        c["different h11"] += int(h[0] != hq[0])
        rows[(int(P.shape[0]), "same" if same else "different")] += 1
        if not same and len(examples) < 5:
            examples.append({"config": P.tolist(), "hodge": list(map(int, h)), "contraction": Q.tolist(),
                             "contraction_hodge": list(map(int, hq)), "euler": int(chi)})
    return dict(c), {f"{m} rows, {k}": v for (m, k), v in sorted(rows.items())}, examples


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--out", default=str(HERE / "results" / "redundancy_rule.json"))
    a = ap.parse_args()
    import cicy4lib
    rng = np.random.default_rng(a.seed)
    t0 = time.time()
    report = {"command": f"python benchmarks/bench_redundancy_rule.py --n {a.n} --seed {a.seed}",
              "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": platform.machine(),
              "python": platform.python_version()}

    # (1) release 2: entries the chi rule marks redundant, one chi-equal contraction each
    r2 = cicy4lib.load_dataset("generated-r2")
    mask_file = HERE / "learning" / "r2_redundant_mask.npy"
    idx = np.flatnonzero(np.load(mask_file)) if mask_file.exists() else np.arange(len(r2.conf))
    pairs = []
    for k in rng.permutation(idx):
        if len(pairs) >= a.n:
            break
        P, chi = _trim(r2.conf[k]), int(r2.euler[k])
        same = chi_equal_contractions(P, chi)
        if same:
            i, Q = same[int(rng.integers(len(same)))]
            pairs.append((P, tuple(int(x) for x in r2.hodge[k]), Q, chi))
    counts, by_rows, examples = compare(pairs, a.timeout)
    report["release2_chi_redundant"] = {"pairs": len(pairs), "counts": counts, "by_rows": by_rows,
                                        "examples": examples}
    print("release 2, chi-redundant entries:", counts, flush=True)

    # (1b) the same entries, every chi-equal contraction judged: redundant under "same chi and
    # same Hodge numbers" only when some contraction has the entry's Hodge numbers
    ks = [k for k in rng.permutation(idx)[:a.n]]
    v = contraction_verdicts([r2.conf[k] for k in ks], r2.euler[ks], r2.hodge[ks], a.timeout)
    rows = np.array([int(np.count_nonzero(r2.conf[k].any(1))) for k in ks])
    any_same = np.array([bool(x) for x in v["same"]])
    all_diff = np.array([bool(d) and not s and not u for s, d, u in zip(v["same"], v["different"], v["unlabelled"])])
    h11_lt = r2.hodge[ks, 0] < rows
    report["release2_entries_all_contractions"] = {
        "entries": len(ks), "some_contraction_same_hodge": int(any_same.sum()),
        "every_chi_equal_contraction_other_hodge": int(all_diff.sum()),
        "h11_below_rows_among_those": int((h11_lt & all_diff).sum()),
        "h11_below_rows_among_same": int((h11_lt & any_same).sum()),
        "rows_of_those_mean": round(float(rows[all_diff].mean()), 2) if all_diff.any() else None,
        "rows_of_those": {int(r): int(c) for r, c in zip(*np.unique(rows[all_diff], return_counts=True))},
        "share_of_chi_redundant": round(float(all_diff.mean()), 4)}
    print("release 2, every chi-equal contraction:", report["release2_entries_all_contractions"], flush=True)

    # (2) the augmentation's chi-equal splittings of release-3 entries
    r3 = cicy4lib.load_dataset("generated")
    pick = rng.choice(len(r3.conf), size=a.n, replace=False)
    mats = [_trim(r3.conf[k]) for k in pick]
    splits = ineffective_splittings(mats, rng, 1)
    pairs = []
    for k, P, got in zip(pick, mats, splits):
        if got:
            chi = int(euler_numbers(_padded([P]))[0])
            pairs.append((got[0], None, P, chi))
    counts, by_rows, examples = compare(pairs, a.timeout)
    report["release3_chi_equal_splittings"] = {"pairs": len(pairs), "counts": counts, "by_rows": by_rows,
                                               "examples": examples}
    print("release 3, chi-equal splittings (augmentation):", counts, flush=True)
    report["seconds"] = round(time.time() - t0, 1)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(report, indent=1) + "\n")
    print(f"{report['seconds']} s -> {a.out}")


if __name__ == "__main__":
    main()
