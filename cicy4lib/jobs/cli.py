"""Command line: ``python -m cicy4lib <command>`` (also installed as ``cicy4``).

Each command is a thin wrapper over a library function, so the notebooks and the
command line do the same thing. Errors in user input (a bad matrix, a missing file,
a checkpoint of another architecture, a bad argument: any :class:`cicy4lib.errors.Cicy4Error`)
print one line on stderr and exit with status 2; anything else is a bug and keeps its traceback.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import json
import os
import sys
from pathlib import Path

from ..data import load_dataset, subsample
from ..data.checks import read_text_limited
from ..data.splits import SPLIT_NAMES, split_72, write_split_files
from ..errors import Cicy4Error, UsageError
from ..notebooks import main as notebooks_main
from ..threads import configure_threads
from ..training.config import TrainConfig, finetune_config
from ..training.recipes import list_recipes, recipe_epochs
from .demo import run_demo
from .search import add_parser as add_search_parser
from .verify import add_parser as add_verify_parser

EXIT_USER_ERROR = 2
# OS errors on a path the user gave (missing file, a folder for a file, no permission): one line
_PATH_ERRNOS = {errno.ENOENT, errno.EISDIR, errno.ENOTDIR, errno.EACCES, errno.EPERM, errno.EEXIST,
                errno.ENOSPC, errno.EROFS, errno.ENAMETOOLONG}


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line as one line (UsageError), not usage + exit."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message} (see --help)")


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}") from None
        if not value > 0 or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def _split_name(text):
    if text not in SPLIT_NAMES:
        raise argparse.ArgumentTypeError(f"unknown split {text!r}; valid: {', '.join(SPLIT_NAMES)}")
    return text


def _cmd_models(args):
    from ..models import format_model_table  # lazy: imports torch

    print(format_model_table())


def _cmd_data(args):
    data = load_dataset(args.source, drop_products=not args.keep_products)
    split = split_72(len(data), seed=args.seed)
    paths = write_split_files(data, split, args.out, force=args.force, inputs=[args.source])
    print(f"{data.source}: {len(data)} configurations, scale {data.scale:g}")
    print(f"wrote {len(paths)} files to {args.out}")


def train_config(args, device=None):
    """The :class:`~cicy4lib.training.config.TrainConfig` that ``train`` runs with, from its parsed arguments:
    the recipe (``--recipe``, ``--finetune``) with the options given; without ``--epochs`` the
    recipe's own maximum (:func:`cicy4lib.training.recipes.recipe_epochs`: paper 550, fast 60, cicyminer 300)."""
    make_config = finetune_config if args.finetune else TrainConfig.from_recipe
    overrides = {
        "max_epochs": args.epochs if args.epochs is not None else recipe_epochs(args.recipe),
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "time_budget_h": args.time_budget_h,
        "amp": args.amp,
        "device": str(device) if device is not None else args.device,
        "compile": args.compile or None,
        "augment_permutations": args.augment_permutations or None,
    }
    try:
        return make_config(args.recipe, **{k: v for k, v in overrides.items() if v is not None})
    except (TypeError, ValueError) as err:  # TrainConfig's own checks of the values given
        raise UsageError(f"train: {err}") from None


def _cmd_train(args):
    from ..training import distributed  # lazy: imports torch
    from ..training.loop import train  # lazy: imports torch, pandas
    from ..training.restarts import train_restarting  # lazy: imports torch, pandas

    if args.device is not None:
        from ..training.device import resolve_device  # lazy: imports torch

        try:
            resolve_device(args.device)
        except (RuntimeError, ValueError) as err:
            raise UsageError(f"--device {args.device}: {err}") from None
    device = distributed.init_from_env(args.device)  # under torchrun: process group + this rank's device
    data = subsample(load_dataset(args.data), args.max_samples)  # same subset as the notebooks
    config = train_config(args, device)
    if args.epochs is None and not args.quiet and distributed.is_main():
        print(f"{args.model}: up to {config.max_epochs} epochs, the {args.recipe} recipe's maximum "
              "(early stopping may end sooner; --epochs N to change)", flush=True)
    kwargs = dict(split=args.split, config=config, output_dir=args.output_dir, run_name=args.run_name,
                  resume=not args.no_resume, init_from=args.init_from, progress=not args.quiet,
                  overwrite=args.overwrite)
    if args.restarts:
        result, attempts = train_restarting(args.model, data, restarts=args.restarts,
                                            say=print if distributed.is_main() else None, **kwargs)
    else:
        result, attempts = train(args.model, data, **kwargs), []
    if distributed.is_main():
        if len(attempts) > 1:
            print(f"{args.model}: attempts (seed: how it ended): "
                  + ", ".join(f"{a['seed']}: {a['stopped']}" for a in attempts))
        print(f"{args.model}: stopped ({result.stopped}), best val loss {result.best_val_loss:.4f}")
        print(f"run directory: {result.run_dir}")
    distributed.shutdown()


def _cmd_evaluate(args):
    from ..results.evaluate import evaluate_report  # lazy: imports pandas

    data = subsample(load_dataset(args.data), args.max_samples)  # same subset as the notebooks
    for path in args.checkpoints:
        text, _, _ = evaluate_report(path, data, args.split)  # all four metrics + baselines; writes metrics.json
        print(text)


def _cmd_ensemble(args):
    from ..results.ensemble import ensemble_command  # lazy: imports pandas

    data = subsample(load_dataset(args.data), args.max_samples)  # same subset as the notebooks
    return ensemble_command(args.runs_dir, data, split=args.split, names=args.names, members=args.members,
                            hill_climb=args.hill_climb)


def _cmd_predict(args):
    from .predict import predict_configuration  # lazy: imports flint

    text = args.matrix
    if text == "-":
        text = sys.stdin.read()
    elif os.path.lexists(text):  # a path: a regular UTF-8 text file of at most 1 MB (no device, FIFO, binary)
        text = read_text_limited(Path(text), 1 << 20, "matrix text file")
    report = predict_configuration(text, checkpoints=args.checkpoint, exact=not args.no_exact)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:>22}: {value}")


def _cmd_demo(args):
    run_demo(output_dir=args.output_dir, epochs=args.epochs, models=args.models, quiet=args.quiet,
             data=args.data, recipes=args.recipes, jobs=args.jobs, max_samples=args.max_samples,
             fast_batch=args.fast_batch, amp={"auto": "auto", "on": True, "off": False}[args.amp])


def _add_models(sub) -> None:
    """The ``models`` sub-command."""
    p = sub.add_parser("models", help="list the registered architectures with parameter counts")
    p.set_defaults(func=_cmd_models)


def _add_data(sub) -> None:
    """The ``data`` sub-command."""
    p = sub.add_parser("data", help="write the 72%%, 80%% and 5-fold split files (Kaggle names)")
    p.add_argument("--source", default="sample", help="'sample', cicy4list.txt/.zip, or a folder of .npy files")
    p.add_argument("--out", default="data-splits", help="output folder")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--keep-products", action="store_true", help="keep direct products (dropped by default)")
    p.add_argument("--force", action="store_true",
                   help="write even into a folder holding other data, another split or the input")
    p.set_defaults(func=_cmd_data)


def _add_train(sub, recipes) -> None:
    """The ``train`` sub-command."""
    p = sub.add_parser("train", help="train one model (resumable)")
    p.add_argument("model", help="registry name, e.g. LSTM-448 (see `models`)")
    p.add_argument("--data", default="sample")
    p.add_argument("--split", default="72", type=_split_name, help="72, 80, cv0..cv4, strat")
    p.add_argument("--epochs", type=_positive(int), default=None,
                   help="maximum epochs (default: the recipe's own, "
                        + ", ".join(f"{r} {recipe_epochs(r)}" for r in recipes) + ")")
    p.add_argument("--batch-size", type=_positive(int), default=None)
    p.add_argument("--lr", type=_positive(float), default=None)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--restarts", type=int, default=0, choices=range(0, 10), metavar="N",
                   help="start over with the next seed, up to N times, when the network collapses to a "
                        "constant predictor (validation predictions the same for every row); default 0")
    p.add_argument("--output-dir", default="Results_p2_Trained_models")
    p.add_argument("--run-name", default=None)
    p.add_argument("--no-resume", action="store_true",
                   help="start afresh (a run directory that holds a run also needs --overwrite)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run in the run directory (default: resume it, or refuse to replace it)")
    p.add_argument("--init-from", default=None, help="checkpoint to fine-tune from (80%% recipe)")
    p.add_argument("--finetune", action="store_true", help="use the 80%% fine-tune recipe (min_lr 1e-7)")
    p.add_argument("--time-budget-h", type=_positive(float), default=None, help="stop cleanly after this many hours")
    p.add_argument("--max-samples", type=_positive(int), default=None, help="train on a random subset (quick checks)")
    p.add_argument("--device", default=None)
    p.add_argument("--amp", action="store_true",
                   help="mixed precision: bfloat16 on Ampere+ GPUs and on CPUs with native bfloat16 "
                        "(AVX512-BF16/AMX), float16 + GradScaler on older GPUs")
    p.add_argument("--recipe", default="paper", choices=recipes,
                   help="paper (default) | fast (NOT the paper's: standardised targets, batch clip(n_train // 200, 32, 512), one-cycle)"
                        " | cicyminer; see cicy4lib.training.recipes")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (GPU)")
    p.add_argument("--augment-permutations", action="store_true",
                   help="train on random row/column permutations of each configuration (cicy4lib.training.augment)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_train)


def _add_evaluate(sub) -> None:
    """The ``evaluate`` sub-command."""
    p = sub.add_parser("evaluate", help="accuracy/MSE/MAE/R2 tables, raw and constrained")
    p.add_argument("checkpoints", nargs="+", help="model.pt files or run directories")
    p.add_argument("--data", default="sample")
    p.add_argument("--split", default=None, type=_split_name, help="default: the split the checkpoint was trained on")
    p.add_argument("--max-samples", type=_positive(int), default=None, help="the same subset `train --max-samples` used")
    p.set_defaults(func=_cmd_evaluate)


def _add_ensemble(sub) -> None:
    """The ``ensemble`` sub-command."""
    p = sub.add_parser("ensemble", help="mean ensembles (paper names) and hill-climbed weighted ensembles")
    p.add_argument("--runs-dir", default=None,
                   help="folder of run directories (default: Results_p2_Trained_models here, else the checkout's)")
    p.add_argument("--data", default="sample")
    p.add_argument("--split", default="72", type=_split_name)
    p.add_argument("--names", nargs="*", help="paper ensembles, e.g. Ens-2 Ens-80-4 (default: all available)")
    p.add_argument("--members", nargs="*", help="run names for a custom mean ensemble")
    p.add_argument("--hill-climb", action="store_true", help="also fit a weighted ensemble on the validation set")
    p.add_argument("--max-samples", type=_positive(int), default=None, help="the same subset `train --max-samples` used")
    p.set_defaults(func=_cmd_ensemble)


def _add_predict(sub) -> None:
    """The ``predict`` sub-command."""
    p = sub.add_parser("predict", help="Hodge numbers of one configuration matrix")
    p.add_argument("matrix", help="e.g. '[[2,5]]' or '{{2,2,4}}', a file, or - for stdin")
    p.add_argument("--checkpoint", nargs="*", default=[], help="model.pt files / run dirs (several = ensemble)")
    p.add_argument("--no-exact", action="store_true", help="skip the exact cohomology computation")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_predict)


def _add_demo(sub, recipes) -> None:
    """The ``demo`` sub-command."""
    p = sub.add_parser("demo", help="the main job on the embedded sample: train, ensemble, evaluate, figures")
    p.add_argument("--output-dir", default="demo_output")
    p.add_argument("--epochs", type=_positive(int), default=None)
    p.add_argument("--models", nargs="*", default=None,
                   help="default runs: CNN-LSTM-400 paper + fast, LSTM-448 fast; with --models and/or "
                        "--recipes every pair (models default LSTM-448 CNN-LSTM-400)")
    p.add_argument("--recipes", nargs="*", default=None, choices=recipes,
                   help="with --models: every pair (recipes default paper fast)")
    p.add_argument("--fast-batch", type=_positive(int), default=128,
                   help="the fast recipe's batch in the demo (default 128; lr by its square-root rule)")
    p.add_argument("--data", default="auto", help="auto (the generated set if installed, else the sample) "
                                                  "or any load_dataset source")
    p.add_argument("--max-samples", type=_positive(int), default=8_000)
    p.add_argument("--jobs", type=_positive(int), default=None,
                   help="parallel training processes (default: one per CPU)")
    p.add_argument("--amp", choices=("auto", "on", "off"), default="off",
                   help="bfloat16 autocast (auto: when the CPU runs bfloat16 natively, AVX512-BF16/AMX); "
                        "off by default: ~1.4x faster, but on one data release LSTM-448 did not learn under it")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_demo)

def build_parser() -> argparse.ArgumentParser:
    """The command line's parser: one sub-command per job (``python -m cicy4lib <command> --help``)."""
    from .zoo import add_parser as add_zoo_parser  # lazy: imports pandas

    recipes = list_recipes()
    parser = _Parser(prog="python -m cicy4lib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    _add_models(sub)
    _add_data(sub)
    _add_train(sub, recipes)
    _add_evaluate(sub)
    _add_ensemble(sub)
    _add_predict(sub)
    _add_demo(sub, recipes)
    add_search_parser(sub)  # `search`: Optuna study (jobs/search.py)
    add_zoo_parser(sub)  # `zoo`: every model + baselines, one budget (jobs/zoo.py)
    add_verify_parser(sub)  # `verify`: recompute χ/Hodge of a list (jobs/verify.py)
    return parser


def main(argv=None) -> int:
    """Run a command; return its exit status (2 and one line on stderr for a user error)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except Cicy4Error as err:  # every library error is a user error: bad input, file, name, run
        return _user_error(err)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, PermissionError) as err:
        return _user_error(f"{err.strerror}: {err.filename}" if err.filename and err.strerror else err)
    except OSError as err:
        if err.filename is None or err.errno not in _PATH_ERRNOS:
            raise  # not about a path the user gave: a bug or a broken machine, keep the traceback
        return _user_error(f"{err.strerror or err}: {err.filename}")
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _user_error(err) -> int:
    message = " ".join(str(err).split()) or type(err).__name__  # one line, whatever the message holds
    print(f"error: {message}", file=sys.stderr)
    return EXIT_USER_ERROR


@contextlib.contextmanager
def _one_line_usage_errors():
    """Sub-programs with their own argparse parsers report a bad command line in one line too."""
    original = argparse.ArgumentParser.error
    argparse.ArgumentParser.error = _Parser.error
    try:
        yield
    finally:
        argparse.ArgumentParser.error = original


def _main(argv) -> int:
    # sub-programs with their own parsers
    if argv[:1] == ["notebooks"]:
        with _one_line_usage_errors():
            return notebooks_main(argv[1:]) or 0
    if argv[:1] in (["generate"], ["sample"]):  # the generator (cicy4lib/jobs/generate.py); "sample": old name
        from .generate import main as generate_main  # lazy: imports flint

        with _one_line_usage_errors():
            return generate_main(argv[1:]) or 0
    args = build_parser().parse_args(argv)
    if args.command in ("evaluate", "ensemble", "predict", "zoo", "search"):
        configure_threads()  # torch's one thread per core is the slow choice on small machines (threads.py)
    return args.func(args) or 0
