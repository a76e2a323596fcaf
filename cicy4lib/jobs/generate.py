"""Make the embedded sample or the large generated set: ``python -m cicy4lib.jobs.generate``.

Sample mode builds a sample with :func:`cicy4lib.geometry.sample_generator.build_sample` (or draws
it from the generated set's release, ``--from-generated``) and writes it and its card
(``SAMPLE_CARD.md``) to ``--out`` (default ``./sample.npz``; the shipped
``cicy4lib/_data/sample.npz`` only with ``--out`` and ``--force``).

**Chunked mode** (the large set served as ``load_dataset("generated")``, ``_data/generated-r3/``)::

    python -m cicy4lib.jobs.generate --chunks 600 --chunk-size 500            # every local core
    python -m cicy4lib.jobs.generate --chunks 600 --chunk-size 500 --scheduler tcp://host:8786

Chunk ``i`` is a pure function of (settings, i) (:mod:`cicy4lib.geometry.walks`): chunks are made
in parallel (local processes or a Dask cluster, :mod:`cicy4lib.chunked`), each written atomically
as ``chunk_NNNNN.npz`` with byte-deterministic contents; rerunning the command skips what is there,
so a killed run resumes without duplicates or gaps and ends with the same files as an
uninterrupted one. See :func:`cicy4lib.data.generated.run_generation`,
:func:`cicy4lib.data.generated.load_generated` and ``_data/generated-r3/CARD.md``.
The same command is ``python -m cicy4lib generate ...`` (or ``sample ...``).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .. import outputs
from ..constants import MAX_ROWS
from ..data.cards import summary, write_card, write_generated_card
from ..data.generated import GENERATED_DIR, release_chunks, release_dir, run_generation, sample_from_generated, save_sample
from ..errors import Cicy4Error
from ..geometry.labelling import LABEL_TIMEOUT_S
from ..geometry.sample_generator import DEFAULT_N, DEFAULT_SEED, build_sample
from ..geometry.walks import default_chunk_settings

PROG = "python -m cicy4lib.jobs.generate"


def main(argv=None):
    """Run the generator's command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``); ``--help`` lists them.

    Returns
    -------
    None

    Raises
    ------
    OutputRefusedError
        Sample mode: ``--out`` inside the package, or the default ``./sample.npz`` already there,
        without ``--force`` (nothing is generated then).
    """
    args = build_parser().parse_args(argv)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    if args.out_dir is None:
        args.out_dir = str(release_dir(args.settings_release))
    if args.chunks is not None or args.card or args.release is not None:
        return _main_chunked(args, log)
    return _main_sample(args, log)


def build_parser() -> argparse.ArgumentParser:
    """The generator's command line (sample mode, and chunked mode for the large set).

    Returns
    -------
    argparse.ArgumentParser
    """
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--n", type=int, default=DEFAULT_N, help="entries to ship")
    ap.add_argument("--out", default=None,
                    help="output .npz, card written beside it (default ./sample.npz; inside the package, e.g. "
                         "the shipped cicy4lib/_data/sample.npz, only with --force)")
    ap.add_argument("--workers", type=int, default=None,
                    help="worker processes (sample: 2; chunked: every core this process may use)")
    ap.add_argument("--max-rows", type=int, default=None, help="largest row count (sample: 14; chunked: 16)")
    ap.add_argument("--timeout", type=float, default=LABEL_TIMEOUT_S, help="seconds per labelling")
    ap.add_argument("--from-generated", action="store_true",
                    help="draw the sample from the generated set's release in --out-dir (minimal descriptions "
                         "only) instead of building it with the sample generator")
    g = ap.add_argument_group("chunked mode (the large generated set; resumable, parallel, distributed)")
    g.add_argument("--chunks", type=int, default=None,
                   help="make chunks 0..CHUNKS-1 (those already in --out-dir are skipped); enables chunked mode")
    g.add_argument("--out-dir", default=None, help="chunk folder (default: the release's, cicy4lib/_data/generated-r3 "
                   "for release 3)")
    g.add_argument("--settings-release", type=int, choices=(2, 3, 4), default=3,
                   help="settings of release 2 (kept to reproduce it), 3 (minimal under the Euler rule; default) or 4 "
                        "(minimal under the Hodge rule: chi-equal children of other Hodge numbers kept)")
    g.add_argument("--chunk-size", type=int, default=None, help="candidates per chunk (release 3: 500, 2: 1000)")
    g.add_argument("--chunk-seed", type=int, default=None, help="walk seed (default: the release's)")
    g.add_argument("--block-share", type=float, default=None,
                   help="share of rows whose degree a splitting keeps in one piece (default 0.9)")
    g.add_argument("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786")
    g.add_argument("--card", action="store_true", help="only (re)write CARD.md (for the release if there is one)")
    g.add_argument("--release", nargs="?", const=-1, type=int, default=None, metavar="K",
                   help="serve chunks 0..K-1 as load_dataset('generated') (default K: all present from 0); "
                        "writes release.json and the card")
    g.add_argument("--force", action="store_true",
                   help="overwrite a manifest with other settings (sample mode: write --out inside the package "
                        "or over an existing ./sample.npz)")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    return ap


def _main_sample(args, log):
    """Sample mode: build the embedded sample (or draw it from the release), then its card."""
    args.workers = 2 if args.workers is None else args.workers
    args.max_rows = 14 if args.max_rows is None else args.max_rows
    out_path = outputs.sample_output(args.out, force=args.force)  # refused before anything is generated

    if args.from_generated:
        arrays = sample_from_generated(args.out_dir, args.n, args.seed)
        command = (f"{PROG} --from-generated --seed {args.seed} --n {args.n}"
                   + (f" --out-dir {args.out_dir}" if Path(args.out_dir) != GENERATED_DIR else ""))
    else:
        arrays = build_sample(args.n, args.seed, workers=args.workers, max_rows=args.max_rows,
                              timeout=args.timeout, log=log)
        command = f"{PROG} " + " ".join(
            [f"--seed {args.seed}", f"--n {args.n}", f"--workers {args.workers}"]
            + ([f"--max-rows {args.max_rows}"] if args.max_rows != 14 else [])
            + ([f"--timeout {args.timeout:g}"] if args.timeout != LABEL_TIMEOUT_S else []))
    if args.out is not None:  # the command that remakes this very file
        command += f" --out {args.out}" + (" --force" if args.force else "")
    out = save_sample(arrays, out_path)
    card = write_card(arrays, Path(out).with_name("SAMPLE_CARD.md"), command=command, npz_path=out)
    s = summary(arrays)
    print(json.dumps({"out": str(out), "card": str(card), "bytes": Path(out).stat().st_size,
                      "n": s["n"], "non_favourable": round(s["non_favourable"], 4),
                      "h21_positive": round(s["h21_positive"], 4), "methods": s["methods"],
                      "wall_seconds": arrays["meta"]["wall_seconds"]}, indent=1))


def _main_chunked(args, log):
    given = {k: v for k, v in (("seed", args.chunk_seed), ("chunk_size", args.chunk_size),
                                ("block_share", args.block_share)) if v is not None}
    settings = default_chunk_settings(release=args.settings_release, max_rows=args.max_rows or MAX_ROWS,
                                      timeout=args.timeout, **given)
    if args.release is not None:
        record = release_chunks(args.out_dir, None if args.release < 0 else args.release)
        log(f"released chunks 0..{record['chunks'] - 1}: {record['n']} entries")
    elif not args.card:
        t0 = time.perf_counter()
        written = run_generation(args.out_dir, args.chunks, settings, workers=args.workers,
                                 scheduler=args.scheduler, progress=not args.quiet, force=args.force, log=log)
        log(f"wrote {len(written)} chunks in {time.perf_counter() - t0:.0f} s")
    card = write_generated_card(args.out_dir)
    log(f"card: {card}")


def run_main(argv=None) -> int:
    """:func:`main` as a command: a library error (an output refused, a damaged chunk that cannot be
    moved aside, other settings in the folder) is one ``error:`` line and exit status 2."""
    try:
        main(argv)
    except Cicy4Error as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(run_main())
