"""Command line: ``python -m cicy4lib <command>`` (also installed as ``cicy4``).

Each command is a thin wrapper over a library function, so the notebooks and the
command line do the same thing. Errors in user input (a bad matrix, a missing file,
a checkpoint of another architecture) print one line and exit non-zero.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def _cmd_models(args):
    from .models import format_model_table

    print(format_model_table())


def _cmd_data(args):
    from .data import load_dataset
    from .data.splits import split_72, write_split_files

    data = load_dataset(args.source, drop_products=not args.keep_products)
    split = split_72(len(data), seed=args.seed)
    paths = write_split_files(data, split, args.out)
    print(f"{data.source}: {len(data)} configurations, scale {data.scale:g}")
    print(f"wrote {len(paths)} files to {args.out}")


def _cmd_train(args):
    from .data import load_dataset, subsample
    from . import distributed
    from .train import TrainConfig, finetune_config, train

    device = distributed.init_from_env(args.device)  # under torchrun: process group + this rank's device
    data = subsample(load_dataset(args.data), args.max_samples)  # same subset as the notebooks
    if args.finetune:
        make_config = finetune_config if args.recipe == "paper" else \
            (lambda **kw: TrainConfig.from_recipe(args.recipe, **{"min_lr": 1e-7, **kw}))
    else:
        make_config = lambda **kw: TrainConfig.from_recipe(args.recipe, **kw)  # noqa: E731
    overrides = {
        "max_epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "time_budget_h": args.time_budget_h,
        "amp": args.amp,
        "device": str(device) if device is not None else args.device,
        "compile": args.compile or None,
    }
    config = make_config(**{k: v for k, v in overrides.items() if v is not None})
    result = train(
        args.model,
        data,
        split=args.split,
        config=config,
        output_dir=args.output_dir,
        run_name=args.run_name,
        resume=not args.no_resume,
        init_from=args.init_from,
        progress=not args.quiet,
    )
    if distributed.is_main():
        print(f"{args.model}: stopped ({result.stopped}), best val loss {result.best_val_loss:.4f}")
        print(f"run directory: {result.run_dir}")
    distributed.shutdown()


def _cmd_evaluate(args):
    from .data import load_dataset, subsample
    from .evaluate import evaluate_report

    data = subsample(load_dataset(args.data), args.max_samples)  # same subset as the notebooks
    for path in args.checkpoints:
        text, _, _ = evaluate_report(path, data, args.split)  # all four metrics + baselines; writes metrics.json
        print(text)


def _cmd_ensemble(args):
    from .data import load_dataset, subsample
    from .ensemble import ensemble_command

    data = subsample(load_dataset(args.data), args.max_samples)  # same subset as the notebooks
    return ensemble_command(args.runs_dir, data, split=args.split, names=args.names, members=args.members,
                            hill_climb=args.hill_climb)


def _cmd_predict(args):
    from .predict import predict_configuration

    text = args.matrix
    if text == "-":
        text = sys.stdin.read()
    elif os.path.exists(text):
        text = Path(text).read_text()
    report = predict_configuration(text, checkpoints=args.checkpoint, exact=not args.no_exact)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for key, value in report.items():
            print(f"{key:>22}: {value}")


def _cmd_demo(args):
    from .demo import run_demo

    run_demo(output_dir=args.output_dir, epochs=args.epochs, models=args.models, quiet=args.quiet)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cicy4lib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("models", help="list the registered architectures with parameter counts")
    p.set_defaults(func=_cmd_models)

    p = sub.add_parser("data", help="write the 72%%, 80%% and 5-fold split files (Kaggle names)")
    p.add_argument("--source", default="sample", help="'sample', cicy4list.txt/.zip, or a folder of .npy files")
    p.add_argument("--out", default="data-splits", help="output folder")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--keep-products", action="store_true", help="keep direct products (dropped by default)")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("train", help="train one model (resumable)")
    p.add_argument("model", help="registry name, e.g. LSTM-448 (see `models`)")
    p.add_argument("--data", default="sample")
    p.add_argument("--split", default="72", help="72, 80, cv0..cv4, strat")
    p.add_argument("--epochs", type=int, default=None, help="maximum epochs (paper: 550)")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--output-dir", default="Results_p2_Trained_models")
    p.add_argument("--run-name", default=None)
    p.add_argument("--no-resume", action="store_true", help="start afresh even if a run state exists")
    p.add_argument("--init-from", default=None, help="checkpoint to fine-tune from (80%% recipe)")
    p.add_argument("--finetune", action="store_true", help="use the 80%% fine-tune recipe (min_lr 1e-7)")
    p.add_argument("--time-budget-h", type=float, default=None, help="stop cleanly after this many hours")
    p.add_argument("--max-samples", type=int, default=None, help="train on a random subset (quick checks)")
    p.add_argument("--device", default=None)
    p.add_argument("--amp", action="store_true",
                   help="automatic mixed precision (CUDA): bfloat16 on Ampere+, float16 + GradScaler before")
    p.add_argument("--recipe", default="paper", choices=["paper", "fast", "cicyminer"],
                   help="paper (default) | fast (NOT the paper's: standardised targets, batch 512, one-cycle)"
                        " | cicyminer; see cicy4lib.recipes")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (GPU)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="accuracy/MSE/MAE/R2 tables, raw and constrained")
    p.add_argument("checkpoints", nargs="+", help="model.pt files or run directories")
    p.add_argument("--data", default="sample")
    p.add_argument("--split", default=None, help="default: the split the checkpoint was trained on")
    p.add_argument("--max-samples", type=int, default=None, help="the same subset `train --max-samples` used")
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("ensemble", help="mean ensembles (paper names) and hill-climbed weighted ensembles")
    p.add_argument("--runs-dir", default=None,
                   help="folder of run directories (default: Results_p2_Trained_models here, else the checkout's)")
    p.add_argument("--data", default="sample")
    p.add_argument("--split", default="72")
    p.add_argument("--names", nargs="*", help="paper ensembles, e.g. Ens-2 Ens-80-4 (default: all available)")
    p.add_argument("--members", nargs="*", help="run names for a custom mean ensemble")
    p.add_argument("--hill-climb", action="store_true", help="also fit a weighted ensemble on the validation set")
    p.add_argument("--max-samples", type=int, default=None, help="the same subset `train --max-samples` used")
    p.set_defaults(func=_cmd_ensemble)

    p = sub.add_parser("predict", help="Hodge numbers of one configuration matrix")
    p.add_argument("matrix", help="e.g. '[[2,5]]' or '{{2,2,4}}', a file, or - for stdin")
    p.add_argument("--checkpoint", nargs="*", default=[], help="model.pt files / run dirs (several = ensemble)")
    p.add_argument("--no-exact", action="store_true", help="skip the exact cohomology computation")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("demo", help="the main job on the embedded sample: train, ensemble, evaluate, figures")
    p.add_argument("--output-dir", default="demo_output")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--models", nargs="*", default=None)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_demo)

    return parser


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # sub-programs with their own parsers
    if argv[:1] == ["notebooks"]:
        from .notebooks import main as notebooks_main

        return notebooks_main(argv[1:]) or 0
    if argv[:1] == ["sample"]:
        from .geometry.generate import main as sample_main

        return sample_main(argv[1:]) or 0
    args = build_parser().parse_args(argv)
    try:
        rc = args.func(args)
    except (ValueError, FileNotFoundError, KeyError) as err:
        # ConfigurationError, DataError and CheckpointError are ValueErrors: one line, no traceback
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {message}", file=sys.stderr)
        return 2
    return rc or 0
