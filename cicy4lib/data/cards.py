"""Dataset cards (Markdown) of the embedded sample and of the generated set.

:func:`write_card` describes a sample (``SAMPLE_CARD.md``), :func:`write_generated_card` a chunk
folder (``CARD.md``: construction, the command that remakes it, timings, shares against the
CICY4 list's published statistics, histograms).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
from collections import Counter
from pathlib import Path

import numpy as np

from ..constants import MAX_ROWS
from ..fileio import atomic_write_text
from ..geometry.enumeration import SEED_ROWS
from ..geometry.labelling import LABEL_TIMEOUT_S
from ..geometry.sample_generator import H21_SHARE, OVERSHOOT
from ..geometry.walks import n_seed_chunks, release_of
from .generated import (CARD_PATH, GENERATED_DIR, GENERATED_MIN_ENTRIES, chunk_path, completed_chunks,
                        load_generated, release_dir)

def summary(arrays):
    """Shares, shapes and label distributions of a sample.

    Parameters
    ----------
    arrays : dict
        ``conf``, ``hodge``, ``euler``, ``method`` arrays.

    Returns
    -------
    dict
        ``n``, ``non_favourable``, ``h21_positive``, ``rows``, ``cols``, ``methods``, ``mean``,
        ``range``, ``euler_range``.
    """
    conf, hodge = arrays["conf"], arrays["hodge"]
    rows = (conf != 0).any(2).sum(1)
    cols = (conf != 0).any(1).sum(1)
    N = len(hodge)
    return {
        "n": N,
        "non_favourable": float(np.mean(hodge[:, 0] != rows)) if N else 0.0,
        "h21_positive": float(np.mean(hodge[:, 1] > 0)) if N else 0.0,
        "rows": dict(sorted(Counter(rows.tolist()).items())),
        "cols": dict(sorted(Counter(cols.tolist()).items())),
        "methods": dict(sorted(Counter(arrays["method"].tolist()).items())),
        "mean": {k: float(hodge[:, i].mean()) if N else 0.0
                 for i, k in enumerate(("h11", "h21", "h31", "h22"))},
        "range": {k: [int(hodge[:, i].min()), int(hodge[:, i].max())] if N else []
                  for i, k in enumerate(("h11", "h21", "h31", "h22"))},
        "euler_range": [int(arrays["euler"].min()), int(arrays["euler"].max())] if N else [],
    }


def _histogram(values, bins=None, width=40):
    """Text histogram rows: '| range | count | bar |'."""
    values = np.asarray(values)
    if bins is None:
        edges = None
        keys = sorted(Counter(values.tolist()).items())
        rows = [(str(k), c) for k, c in keys]
    else:
        counts, edges = np.histogram(values, bins=bins)
        rows = [(f"{int(edges[i])}–{int(edges[i + 1]) - (i < len(counts) - 1)}", int(c))
                for i, c in enumerate(counts) if c]
    top = max((c for _, c in rows), default=1)
    lines = ["| value | count | |", "|---:|---:|:---|"]
    lines += [f"| {k} | {c} | {'#' * max(1, round(width * c / top))} |" for k, c in rows]
    return "\n".join(lines)


def _bins(values, n_bins=15):
    lo, hi = int(np.min(values)), int(np.max(values))
    if hi - lo <= 40:  # small ranges (h11, h21): one row per value
        return None
    step = max(1, int(np.ceil((hi - lo + 1) / n_bins)))
    return np.arange(lo, hi + step + 1, step)


def _built_sample_head(meta, command):
    """Card lines of a sample made by :func:`build_sample`."""
    return [
        "**Provenance.** Generated and labelled by `cicy4lib` — this is **not** the Oxford CICY4 list",
        "(Gray–Haupt–Lukas, arXiv:1303.1832). Every entry is a genuine complete-intersection",
        "Calabi–Yau four-fold configuration, built the way the list was built: all configurations",
        f"with at most {SEED_ROWS} rows are enumerated, larger ones are reached from them by random",
        "*effective* splittings (a splitting that leaves the Euler number unchanged is discarded; so is",
        "a seed that only such splittings lead to), de-duplicated under row and column permutations by",
        "an exact canonical form, with direct products excluded.",
        "χ is `geometry.euler_number` (exact); the Hodge numbers come from line-bundle cohomology",
        "(`cohomology.hodge_from_degree_matrix`); only entries whose Hodge numbers were determined and",
        "satisfy χ = 4 + 2h11 − 4h21 + 2h31 + h22 and 44 = −4h11 + 2h21 − 4h31 + h22 are shipped.",
        "Statistics of this sample are *sample* statistics, not those of the CICY4 list.",
        "",
        f"**Selection.** Splitting drives h21 to 0 faster than in the list, so about {OVERSHOOT:g}x the",
        "requested number of configurations is generated and labelled, and within each row count the",
        f"ones with h21 > 0 are taken first, up to {100 * H21_SHARE:.0f}% of that row count's quota (the rest at",
        "random). This chooses which genuinely labelled configurations are kept; no label is altered.",
        "",
        "## Regenerate",
        "",
        "```",
        command or (f"python -m cicy4lib.jobs.generate --seed {meta['seed']} --n {meta['n_requested']} "
                    f"--workers {meta['workers']}"),
        "```",
        "",
        f"Seed {meta['seed']}, generator version {meta['generator_version']}, {meta['workers']} worker(s); "
        f"wall time {meta['wall_seconds']:.0f} s (generation {meta['generation_seconds']:.0f} s, "
        f"labelling {meta['labelling_seconds']:.0f} s) on {meta['machine']}, Python {meta['python']}, "
        f"numpy {meta['numpy']}. Labelling is capped at {meta['label_timeout_s']:g} s per configuration "
        "(a timed-out one is dropped), so on a much slower machine the selection can differ slightly.",
        "",
    ]


def _drawn_sample_head(meta, command):
    """Card lines of a sample drawn from the generated set (:func:`sample_from_generated`)."""
    src = meta["drawn_from"]
    return [
        "**Provenance.** Generated and labelled by `cicy4lib` — this is **not** the Oxford CICY4 list",
        "(Gray–Haupt–Lukas, arXiv:1303.1832). The sample is a uniform random draw (seed "
        f"{meta['seed']}) of {meta['n_shipped']} entries from the generated set in `cicy4lib/_data/{src['folder']}/`",
        f"({src['n']} entries" + (f", release of {src['release']['released']}" if src.get("release") else "")
        + "): minimal descriptions only (no entry is an ineffective splitting of a smaller",
        "configuration), de-duplicated under row and column permutations, no direct products, χ exact and",
        "Hodge numbers from line-bundle cohomology satisfying both index relations; see that folder's",
        "CARD.md for the construction. Statistics here are *sample* statistics, not the list's.",
        "",
        "## Regenerate",
        "",
        "```",
        command or f"python -m cicy4lib.jobs.generate --from-generated --seed {meta['seed']} --n {meta['n_requested']}",
        "```",
        "",
        f"Drawn in {meta['wall_seconds']:.0f} s on {meta['machine']}, Python {meta['python']}, numpy {meta['numpy']}.",
        "",
    ]


def write_card(arrays, path=CARD_PATH, command=None, npz_path=None):
    """Write the dataset card (Markdown) describing a sample.

    Parameters
    ----------
    arrays : dict
        The sample's arrays (``meta`` a dict or its JSON).
    path : path
        The card file.
    command : str, optional
        The command that made the sample (default: one rebuilt from ``meta``).
    npz_path : path, optional
        The sample's file, for its size (default: ``sample.npz`` beside the card).

    Returns
    -------
    pathlib.Path
    """
    meta = arrays["meta"] if isinstance(arrays["meta"], dict) else json.loads(str(arrays["meta"]))
    s = summary(arrays)
    npz_path = Path(npz_path or Path(path).with_name("sample.npz"))
    size = npz_path.stat().st_size if npz_path.exists() else None
    lines = ["# Embedded sample of CICY four-folds (`cicy4lib/_data/sample.npz`)", ""]
    lines += _drawn_sample_head(meta, command) if "drawn_from" in meta else _built_sample_head(meta, command)
    lines += [
        "## Contents",
        "",
        f"- {s['n']} entries" + (f", file size {size / 1e6:.2f} MB" if size else "") + ".",
        "- Keys: `conf` int8 (N,16,20) padded degree blocks (no dimension column), `euler` int64 (N,),",
        "  `hodge` int64 (N,4) (h11, h21, h31, h22), `method` str (N,), `id` int64 (N,),",
        "  `is_product` bool (N,) (all False), `meta` JSON string.",
        f"- Candidates generated and labelled: {meta['n_generated']}; Hodge numbers determined and",
        f"  consistent: {meta['n_labelled_ok']}; undetermined: {meta['n_undetermined']}; timed out: "
        f"{meta['n_timeout']}; errors: {meta.get('n_error', 0)}; inconsistent with χ: {meta.get('n_inconsistent', 0)}.",
        f"- Labelling methods over all candidates: {meta['methods_generated']}.",
        f"- Labelling methods of the shipped entries: {s['methods']}.",
        "",
        "## Shares (sample vs the real list)",
        "",
        "| | sample | CICY4 list |",
        "|---|---:|---:|",
        f"| non-favourable (h11 ≠ number of rows) | {100 * s['non_favourable']:.1f}% | 45.5% |",
        f"| h21 > 0 | {100 * s['h21_positive']:.1f}% | ~30% |",
        f"| mean h11 | {s['mean']['h11']:.2f} | 10.1 |",
        f"| mean h21 | {s['mean']['h21']:.3f} | 0.817 |",
        f"| mean h31 | {s['mean']['h31']:.1f} | 39.6 |",
        f"| mean h22 | {s['mean']['h22']:.1f} | 241 |",
        *_shape_rows(arrays),
        "",
        "## Shapes",
        "",
        "Rows (number of projective factors):",
        "",
        _histogram(((arrays["conf"] != 0).any(2).sum(1))),
        "",
    ]
    lines += _distribution_lines(arrays, s)
    Path(path).write_text("\n".join(lines), encoding="utf-8")
    return Path(path)


def _timings(out_dir):
    path = Path(out_dir) / "timings.jsonl"
    rows = []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                rows.append(json.loads(line))
            except ValueError:  # a line cut by a kill
                continue
    return rows


def _verified_line(out_dir):
    """The last `verify` of this set, when its summary was stored beside the chunks."""
    path = Path(out_dir) / "verify_summary.json"
    if not path.exists():
        return ""
    v = json.loads(path.read_text(encoding="utf-8"))
    e, r, h = v["euler"], v["relations"], v["hodge"]
    return (f"**Verified** (`{v.get('command') or 'python -m cicy4lib verify generated'}`, current labeller): "
            f"χ recomputed for all {e['recomputed']} entries, {e['mismatches']} mismatches; both index relations "
            f"hold for {r['checked'] - r['mismatches']} of {r['checked']}; Hodge numbers recomputed for "
            f"{h['recomputed']} random entries: {h['agree']} agree, {h['mismatches']} disagree, "
            f"{h['undetermined'] + h['timeout'] + h['error']} not determined ({v['wall_seconds']:.0f} s)"
            + (f"; redundant descriptions (ineffective splittings of a smaller configuration): "
               f"{v['redundancy']['ineffective_splittings']} of {v['redundancy']['checked']}" if "redundancy" in v else "")
            + (f"; χ-equal contractions of other Hodge numbers (other manifolds, kept by the Hodge rule): "
               f"{v['redundancy']['chi_equal_other_hodge']}" if v.get("redundancy", {}).get("chi_equal_other_hodge") else "")
            + ".")


def _projection_line(times, meta):
    """Core-hours per 100,000 / 250,000 entries from the recent random-walk chunks' CPU time."""
    recent = [t for t in times if "cpu" in t and t.get("generate", 0) > 1.0][-40:]  # walk chunks
    if not recent:
        return ""
    per_cand = sum(t["cpu"] for t in recent) / max(1, sum(t["n"] for t in recent))
    keep = meta["n"] / max(1, meta["n_candidates"])  # entries per candidate (duplicates, failures)
    hours = {k: k * per_cand / keep / 3600 for k in (100_000, 250_000)}
    return (f"Throughput (last {len(recent)} random chunks, CPU time): {per_cand:.3f} CPU-s per candidate, "
            f"{keep:.3f} entries per candidate; 100,000 entries ≈ {hours[100_000]:.1f} core-hours, "
            f"250,000 ≈ {hours[250_000]:.1f} core-hours (divide by the cores used).")


def _distribution_lines(arrays, s):
    """The cards' closing histograms: columns, then the four Hodge numbers and χ."""
    hodge, euler = np.asarray(arrays["hodge"]), np.asarray(arrays["euler"])
    lines = ["Columns (number of polynomials):", "", _histogram((arrays["conf"] != 0).any(1).sum(1)), "",
             "## Hodge numbers and Euler number", ""]
    for i, name in enumerate(("h11", "h21", "h31", "h22")):
        lines += [f"{name} (range {s['range'][name]}):", "", _histogram(hodge[:, i], _bins(hodge[:, i])), ""]
    return lines + [f"χ (range {s['euler_range']}):", "", _histogram(euler, _bins(euler)), ""]


def _saturation_text(arrays, n_seed, window=20):
    """How many distinct new entries a walk chunk adds, early and late in the run."""
    chunks = np.asarray(arrays["chunk"])
    walk = sorted(set(chunks[chunks >= n_seed].tolist()))
    if len(walk) < 2 * window:
        return "(too few chunks to measure how the yield falls)."
    first, last = walk[:window], walk[-window:]
    per = lambda ids: np.isin(chunks, ids).sum() / len(ids)  # noqa: E731
    return (f"distinct new entries per walk chunk fall from {per(first):.0f} (chunks {first[0]}–{first[-1]}) "
            f"to {per(last):.0f} (the last {window} chunks, {last[0]}–{last[-1]}).")


def _yield_line(arrays, times, n_seed):
    """Entries per CPU-hour of the random-walk chunks, overall and by row count."""
    walk_cpu = {t["chunk"]: t["cpu"] for t in times if "cpu" in t and t["chunk"] >= n_seed}
    if not walk_cpu:
        return ""
    hours = sum(walk_cpu.values()) / 3600
    in_walks = np.isin(arrays["chunk"], list(walk_cpu))
    rows = (arrays["conf"][in_walks] != 0).any(2).sum(1)
    counts = np.bincount(rows, minlength=MAX_ROWS + 1)
    by_row = ", ".join(f"{r}: {counts[r] / hours:,.0f}" for r in range(1, MAX_ROWS + 1) if counts[r])
    return (f"Yield of the random-walk chunks: {in_walks.sum() / hours:,.0f} distinct entries per CPU-hour "
            f"({len(walk_cpu)} chunks, {hours:.2f} CPU-hours; duplicates of earlier chunks not counted); "
            f"by row count: {by_row}.")


def _span_hours(times):
    stamps = sorted(t["finished"] for t in times if "finished" in t)
    if len(stamps) < 2:
        return 0.0
    parse = lambda x: _dt.datetime.strptime(x, "%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    return (parse(stamps[-1]) - parse(stamps[0])).total_seconds() / 3600


def generated_summary(arrays):
    """Shares and distributions of the generated set: :func:`summary` plus ``favourable`` and ``mean_rows``.

    Parameters
    ----------
    arrays : dict
        :func:`cicy4lib.data.generated.load_generated`.

    Returns
    -------
    dict
    """
    conf, hodge = arrays["conf"], arrays["hodge"]
    rows = (conf != 0).any(2).sum(1)
    N = len(hodge)
    s = summary({"conf": conf, "hodge": hodge, "euler": arrays["euler"], "method": arrays["method"]})
    s["favourable"] = float(np.mean(hodge[:, 0] == rows)) if N else 0.0
    s["mean_rows"] = float(rows.mean()) if N else 0.0
    return s


def _shape_rows(arrays):
    """Card rows comparing shapes and χ quantiles with the list's (SPEC §1 statistics)."""
    conf, euler, hodge = np.asarray(arrays["conf"]), np.asarray(arrays["euler"]), np.asarray(arrays["hodge"])
    if not len(conf):
        return []
    occupied = conf != 0
    rows = occupied.any(2).sum(1)
    cols = occupied.any(1).sum(1)
    dims = conf.sum(2).astype(np.int64) - 1  # n_i per row (-1 on padding rows)
    q = (1, 10, 25, 50, 75, 90, 99)
    quant = lambda a: "/".join(str(int(v)) for v in np.percentile(a, q, method="lower"))  # noqa: E731
    return [
        f"| rows, quantiles {'/'.join(map(str, q))} % | {quant(rows)} | 5/7/8/9/10/11/13 |",
        f"| largest row count | {rows.max()} | 16 |",
        f"| mean number of columns | {cols.mean():.2f} | 10.01 |",
        f"| columns, quantiles | {quant(cols)} | 5/7/8/10/12/13/15 |",
        f"| mean P¹ rows / P² rows per matrix | {(dims == 1).sum(1).mean():.2f} / {(dims == 2).sum(1).mean():.2f} "
        f"| 4.88 / 3.31 |",
        f"| matrices of 0s and 1s only | {100 * np.mean(conf.max((1, 2)) <= 1):.1f}% | ~50% |",
        f"| mean χ; χ quantiles | {euler.mean():.0f}; {quant(euler)} | 335; 0/288/288/318/360/420/636 |",
        f"| h11 < number of rows | {int((hodge[:, 0] < rows).sum())} | 0 |",
    ]


def write_generated_card(out_dir=GENERATED_DIR, path=None):
    """Write ``CARD.md`` of the generated set in ``out_dir`` from its release or the chunks present.

    Parameters
    ----------
    out_dir : path
        Chunk folder.
    path : path, optional
        The card file (default: ``out_dir/CARD.md``).

    Returns
    -------
    pathlib.Path
    """
    out_dir = Path(out_dir)
    arrays = load_generated(out_dir, allow_partial=True)
    meta = arrays["meta"]
    st = meta["settings"]
    n_seed = n_seed_chunks(st)
    lines = [*_card_intro(st, out_dir, n_seed), *_card_runs(out_dir, arrays, n_seed),
             *_card_contents(out_dir, arrays, n_seed)]
    return atomic_write_text("\n".join(lines), Path(path or out_dir / "CARD.md"))


RELEASE_NAMES = {2: "generated-r2", 3: "generated", 4: "generated-r4"}

HODGE_RULE_LINES = [
    "- **minimal under the Hodge rule** (release 4): for four-folds equal χ is not the same manifold",
    "  (the contraction's singular locus is a curve, whose Euler number can be 0; `geometry.equivalence`,",
    "  `benchmarks/results/data_release3.md`). A child with a contraction along a row P^n of n + 1 ones",
    "  that keeps χ — its parent's included — is kept only when it and every such contraction are",
    "  labelled and of other Hodge numbers (another manifold); a contraction with the same χ and Hodge",
    "  numbers makes it a redundant description (dropped), and so does a label that is not found in time.",
    "  Permutations (canonical form), direct products and degree-1 columns as in release 3; the seeds are",
    "  release 3's (minimal under the stricter Euler rule);",
]


def _card_intro(st: dict, out_dir: Path, n_seed: int) -> list:
    """The card's title, provenance and construction choices."""
    release = release_of(st)
    return [
        (f"# Generated CICY four-folds, release {release} "
         f"(`load_dataset(\"{RELEASE_NAMES[release]}\")`, "
         f"`cicy4lib/_data/{out_dir.name}/`)"),
        "",
        "**Provenance** (`provenance = {\"kind\": \"generated\", ...}`). Generated and labelled by `cicy4lib` —",
        "this is **not** the Oxford CICY4 list (Gray–Haupt–Lukas, arXiv:1303.1832), but every entry is a",
        "genuine complete-intersection Calabi–Yau four-fold configuration built the way the list was built,",
        "with exact labels:",
        "",
        f"- chunks 0–{(n_seed or 1) - 1}: the **complete** enumeration of configurations with at most "
        f"{st['seed_rows']} rows",
        ("  without direct products, columns of degree 1, and every ineffective splitting of a smaller"
         if st.get("minimal_only") else
         "  (without direct products, columns of degree 1, and configurations that only ineffective"),
        ("  configuration (complete under that rule: every minimal configuration with that many rows);"
         if st.get("minimal_only") else "  splittings reach);"),
        f"- every later chunk: {st['chunk_size']} configurations with {st['seed_rows'] + 1}–{st['max_rows']} rows, grown layer by layer",
        f"  from random {st['seed_rows']}-row seeds by random *effective* splittings (a splitting that leaves the",
        ("  Euler number unchanged is the same manifold and is discarded), random numbers from" if release < 4 else
         "  Euler number and the Hodge numbers unchanged is the same manifold and is discarded), random numbers from"),
        f"  `default_rng([{st['seed']}, chunk])`;",
        *(["- **minimal descriptions only** (release 3): a configuration with a row P^n of n + 1 ones is a",
           "  splitting of the configuration without that row and with those n + 1 columns added up; when",
           "  both have the same Euler number it is the same manifold (an ineffective splitting: Candelas et",
           "  al., Nucl. Phys. B298 (1988) 493 for three-folds; Gray–Haupt–Lukas, arXiv:1303.1832, who discard",
           "  such redundant matrices from the CICY4 list). Every entry is checked along *every* such row",
           "  (`geometry.splitting.redundant_mask`), in the walk itself, so the parents of each layer are",
           "  minimal too. The other equivalences used for the list are applied as well: permutations of rows",
           "  and columns (canonical form), block-diagonal matrices (direct products) and columns of total",
           "  degree 1 (a hyperplane: a smaller configuration in disguise) are not generated;",
           "- **the Euler rule is stricter than \"the same manifold\"** for four-folds: the contraction's",
           "  singular locus is a curve, whose Euler number can be 0, so an effective splitting can keep χ.",
           "  Labelled exactly, 39 % of release 2's χ-redundant entries (sample of 400) differ in h11 = b2, a",
           "  topological invariant, from every χ-equal contraction: distinct manifolds this set leaves out",
           "  (`benchmarks/bench_redundancy_rule.py`, `geometry.equivalence`). The set keeps the stricter rule,",
           "  so no entry is a redundant description under either rule; `verify` tells the two kinds apart;"]
          if st.get("minimal_only") and release == 3 else []),
        *(HODGE_RULE_LINES if release == 4 else []),
        "- de-duplicated under row and column permutations (exact canonical form) within each chunk and",
        "  across chunks (the lowest chunk holding a canonical form keeps it); no direct products;",
        "- χ exact (`geometry.euler_numbers`); Hodge numbers from line-bundle cohomology",
        "  (`cohomology.hodge_from_degree_matrix`), kept only when determined and consistent with both",
        "  index relations (χ = 4 + 2h11 − 4h21 + 2h31 + h22, 44 = −4h11 + 2h21 − 4h31 + h22); `method`",
        f"  says how (\"exact\" or \"generic-rank\"); at most {st['timeout']:g} s per configuration.",
        "",
        ("**Construction choices, not selection.** No entry is chosen or dropped for its labels. The shares"
         if release < 4 else "**Construction choices, not selection.** Labels only decide the Hodge rule above. The shares"),
        "below are moved towards the list's only by how configurations are built: target row counts",
        "weighted " + ", ".join(f"{k}: {v:g}" for k, v in sorted((int(a), b) for a, b in st["row_weights"].items()))
        + " (peak at 9–10 rows: the list's mean h11 is 10.1),",
        "new P^n rows with n drawn from " + ", ".join(f"P^{k}: {v:g}" for k, v in sorted((int(a), b) for a, b in st["split_dims"].items()))
        + f", and with probability {st['block_share']:g}",
        "a row's whole degree in the split column goes to one part (\"lumpy\" splittings keep degrees 2 and 3,",
        "which raises the share with h21 > 0; unit-by-unit dealing drives h21 to 0).",
        "",
    ]


def _card_runs(out_dir: Path, arrays: dict, n_seed: int) -> list:
    """How to regenerate the set, what is served, and the time and yield of the runs that made it."""
    meta = arrays["meta"]
    st = meta["settings"]
    times = _timings(out_dir)
    cpu_s = sum(t.get("total", 0.0) for t in times)  # worker wall seconds
    cpu_only = [t["cpu"] for t in times if "cpu" in t]
    n_cpu = sum(t.get("n", 0) for t in times if "cpu" in t)
    release = release_of(st)
    command = (f"python -m cicy4lib.jobs.generate --chunks {max(meta['chunks']) + 1} "
               + ("" if release == 3 else f"--settings-release {release} ")
               + ("" if out_dir.resolve() == release_dir(release).resolve() else f"--out-dir {out_dir} ")
               + f"--chunk-size {st['chunk_size']} --chunk-seed {st['seed']} --block-share {st['block_share']:g}"
               + (f" --timeout {st['timeout']:g}" if st["timeout"] != LABEL_TIMEOUT_S else "")
               + (f" --max-rows {st['max_rows']}" if st["max_rows"] != MAX_ROWS else ""))
    missing = sorted(set(range(max(meta["chunks"]) + 1)) - set(meta["chunks"]))
    return [
        "## Regenerate / extend / resume",
        "",
        "```",
        command,
        "```",
        "",
        "Every chunk is a pure function of the settings and its index (up to the per-configuration time",
        "limit), written atomically; rerunning the command skips the chunks present and fills any gaps, so",
        "a killed run resumes where it stopped and a larger `--chunks` extends the set. `--workers N` (default:",
        "all cores), `--scheduler tcp://host:8786` for a Dask cluster (see `cicy4lib/chunked.py`; SLURM/PBS",
        "through dask-jobqueue). `--card` rewrites this card.",
        "",
        "**What is served.** `load_dataset(\"generated\")` serves the *release* (`release.json`: chunks",
        "0..K−1, their digest): generation may go on in the folder without changing the served set (training",
        "runs fingerprint their data). `python -m cicy4lib.jobs.generate --release` declares all chunks",
        "present from 0 the new release and rewrites this card. Without a release, the chunks present are",
        f"served once they hold {GENERATED_MIN_ENTRIES:,} entries (or with `CICY4_GENERATED_PARTIAL=1`).",
        "",
        (f"Release: chunks 0–{meta['release']['chunks'] - 1}, {meta['release']['n']} entries, "
         f"released {meta['release']['released']}; chunk files in the folder: {len(completed_chunks(out_dir))}."
         if meta.get("release") else "No release yet: the card describes every chunk present."),
        "",
        f"Chunks present: {meta['n_chunks']} (indices 0–{max(meta['chunks'])}"
        + (f"; missing: {missing[:20]}{' ...' if len(missing) > 20 else ''}" if missing else "") + "); "
        f"chunk/labeller versions: {meta['chunk_versions']}.",
        f"Wall time: {_span_hours(times):.2f} h from the first to the last chunk written (worker processes at "
        "nice 10 on a 2-core machine shared with other jobs; the span includes pauses between restarts). "
        f"Worker time: {cpu_s / 3600:.1f} worker-hours over {len(times)} chunk runs "
        f"({cpu_s / max(1, meta['n_candidates']):.2f} worker-s per candidate)"
        + (f"; CPU time where recorded: {sum(cpu_only) / max(1, n_cpu):.3f} CPU-s per candidate "
           f"({len(cpu_only)} chunks, {n_cpu} candidates)" if cpu_only else "") + " on "
        f"{platform.machine()}, {os.cpu_count()} CPUs (shared with other jobs), Python {platform.python_version()}.",
        "",
        _projection_line(times, meta),
        "",
        _yield_line(arrays, times, n_seed),
        "",
        _verified_line(out_dir),
        "",
    ]


def _card_contents(out_dir: Path, arrays: dict, n_seed: int) -> list:
    """The card's contents, the shares and means beside the list's, and the shapes."""
    meta = arrays["meta"]
    s = generated_summary(arrays)
    size = sum(chunk_path(out_dir, i).stat().st_size for i in meta["chunks"])
    return [
        "## Contents",
        "",
        f"- **{s['n']} entries**, {size / 1e6:.2f} MB in {meta['n_chunks']} chunk files.",
        f"- Candidates in the chunks: {meta['n_candidates']}; duplicates across chunks dropped: "
        f"{meta['n_duplicates_across_chunks']}; labelling methods over all distinct candidates: {meta['methods_all']}.",
        f"- Labelling methods of the entries: {s['methods']}.",
        "- Chunk files (`chunk_NNNNN.npz`): `conf` int8 (n,16,20) canonical padded degree blocks (no dimension",
        "  column; also the de-duplication keys), `euler` int64, `hodge` int64 (n,4) (−1: not determined),",
        "  `method` str, `meta` JSON (settings, chunk index, generator and labeller versions, counts).",
        "",
        "## Shares and means (generated set vs the CICY4 list's published statistics)",
        "",
        "| | generated | CICY4 list (905,684) |",
        "|---|---:|---:|",
        f"| favourable (h11 = number of rows) | {100 * s['favourable']:.1f}% | 54.5% |",
        f"| h21 > 0 | {100 * s['h21_positive']:.1f}% | ~30% |",
        f"| mean h11 | {s['mean']['h11']:.2f} | 10.1 |",
        f"| mean h21 | {s['mean']['h21']:.3f} | 0.817 |",
        f"| mean h31 | {s['mean']['h31']:.1f} | 39.6 |",
        f"| mean h22 | {s['mean']['h22']:.1f} | 241 |",
        f"| h11 range | {s['range']['h11']} | 1–24 |",
        f"| h21 range | {s['range']['h21']} | 0–33 |",
        f"| h31 range | {s['range']['h31']} | 20–426 |",
        f"| h22 range | {s['range']['h22']} | 204–1752 |",
        f"| χ range | {s['euler_range']} | 0–2610 |",
        f"| mean number of rows | {s['mean_rows']:.2f} | 8.97 |",
        *_shape_rows(arrays),
        "",
        *(_differences_release4(arrays, n_seed) if release_of(meta["settings"]) == 4
          else _differences_euler_rule(arrays, n_seed)),
        "",
        "## Shapes",
        "",
        "Rows (number of projective factors):",
        "",
        _histogram((arrays["conf"] != 0).any(2).sum(1)),
        "",
    ] + _distribution_lines(arrays, s)


def _differences_release4(arrays, n_seed) -> list:
    """Why release 4's shares still differ from the list's."""
    return [
        "Where the shares still differ and why: chunks 0–{} are release 3's seeds (every configuration".format(n_seed - 1),
        "with at most 4 rows minimal under the Euler rule), which pull the row quantiles down; the walk",
        "chunks alone peak at 9–10 rows and reach 16. Under the Hodge rule many-row children are mostly",
        "kept (84–95 % of effective children up to 12 rows, `bench_generator_yield.py --rule hodge`), so",
        "the row counts follow the walk's target weights. The walk adds rows of ones only, so entries of 2",
        "or more stay in the seeds' 4 rows (fewer P² rows and more matrices with larger entries than the",
        "list). The walks revisit what earlier chunks found: " + _saturation_text(arrays, n_seed),
    ]


def _differences_euler_rule(arrays, n_seed) -> list:
    """Why release 3's (or 2's) shares still differ from the list's."""
    return [
        "Where the shares still differ and why: random effective splittings of configurations with many",
        "rows are rarely minimal (a new row must leave the Euler number of *every* contraction changed):",
        "measured on random walks from minimal parents, the share of children that are minimal falls from",
        "~85 % at 5 rows to ~25 % at 10 and below 1 % at 11 (`benchmarks/bench_generator_yield.py`), so",
        "row counts above 10 are rare here while the list's median is 9 rows and its 99 % quantile 13.",
        "From a diverse population instead (400 ten-row entries of this set as parents, 40 splittings",
        "each) 3.1 % of the effective 11-row children are minimal. The walks also revisit what earlier",
        "chunks found: " + _saturation_text(arrays, n_seed) + " Rows of a splitting are rows of ones, so a",
        "walk keeps at most the seeds' 4 rows with entries of 2 or more. Above all, the Euler rule itself",
        "drops list-like manifolds. Judged by exact Hodge numbers, 85,064 of release 2's 200,382",
        "χ-redundant entries differ from every χ-equal contraction: other manifolds, with 8.49 rows,",
        "h11 9.56, h21 0.818 and 53.2 % favourable on average, near the list's 8.97 / 10.07 / 0.82 / 54.5 %",
        "(`benchmarks/results/data_release3.md`). They are served as `load_dataset(\"generated-hodge-rule\")`.",
        "Mean h11 and the favourable share here follow the row counts.",
    ]

