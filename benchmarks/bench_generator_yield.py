"""How often a random effective splitting of a minimal configuration is minimal, per row count.

The release-3 generator keeps minimal descriptions only (no contraction keeps the Euler number).
This measures, layer by layer from the complete 4-row seeds, what share of random splittings of
minimal parents is (a) effective for its parent and (b) minimal, and how many distinct minimal
children a layer yields per CPU-second — the numbers behind the generated set's row distribution.

    python benchmarks/bench_generator_yield.py [--parents 300] [--tries 30] [--seed 1] [--rule euler|hodge]

``--rule hodge`` keeps a child whose every χ-equal contraction has other Hodge numbers (another
manifold: :mod:`cicy4lib.geometry.equivalence`) as well, labelling the child and those contractions.
"""
from __future__ import annotations

import argparse
import platform
import time

import numpy as np

from cicy4lib.geometry import walks
from cicy4lib.geometry.canonical import canonical_form
from cicy4lib.geometry.equivalence import hodge_rule_minimal
from cicy4lib.geometry.euler import euler_numbers
from cicy4lib.geometry.splitting import _padded, redundant_mask


def layer_yields(parents_per_layer=300, tries=30, seed=1, max_rows=16, rule="euler"):
    settings = walks.default_chunk_settings()
    rng = np.random.default_rng(seed)
    parents = walks.seed_layers(settings["seed_rows"], minimal=True)[settings["seed_rows"]]
    out = []
    for rows in range(settings["seed_rows"] + 1, max_rows + 1):
        c0 = time.process_time()
        picks = rng.integers(len(parents), size=parents_per_layer)
        cands, owner = [], []
        for i in picks:
            plan = walks._SplitPlan(parents[i][0])
            for _ in range(tries):
                Q = plan.draw(rng, settings["split_dims"], settings["block_share"], 20)
                if Q is not None:
                    cands.append(Q)
                    owner.append(i)
        if not cands:
            break
        chis = euler_numbers(_padded(cands))
        effective = chis != np.array([parents[i][1] for i in owner])
        eff = [Q for Q, e in zip(cands, effective) if e]
        minimal = ~redundant_mask(eff, chis[effective]) if eff else np.zeros(0, bool)
        if rule == "hodge" and eff:
            minimal = hodge_rule_minimal(eff, chis[effective], minimal)
        children = {}
        for Q, chi, ok in zip(eff, chis[effective].tolist(), minimal.tolist()):
            if ok:
                C = canonical_form(Q)
                children.setdefault(C.tobytes() + bytes(C.shape), (C, chi))
        cpu = time.process_time() - c0
        out.append({"rows": rows, "splittings": len(cands), "effective": float(effective.mean()),
                    "minimal_of_effective": float(minimal.mean()) if len(minimal) else 0.0,
                    "distinct_minimal": len(children), "cpu_s": round(cpu, 2)})
        parents = list(children.values())
        if not parents:
            break
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parents", type=int, default=300)
    ap.add_argument("--tries", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rule", choices=("euler", "hodge"), default="euler")
    args = ap.parse_args()
    print(f"# {time.strftime('%Y-%m-%d')}, {platform.machine()} {platform.processor() or ''}, "
          f"python {platform.python_version()}; parents {args.parents}, tries {args.tries}, seed {args.seed}, "
          f"rule {args.rule}")
    print("| rows | splittings | effective for parent | minimal (of effective) | distinct minimal | CPU s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in layer_yields(args.parents, args.tries, args.seed, rule=args.rule):
        print(f"| {r['rows']} | {r['splittings']} | {100 * r['effective']:.1f}% | "
              f"{100 * r['minimal_of_effective']:.1f}% | {r['distinct_minimal']} | {r['cpu_s']} |", flush=True)


if __name__ == "__main__":
    main()
