"""Compatibility alias: ``cicy4lib.train`` was one module; its public names now live in
:mod:`cicy4lib.training` (notebooks made before the training/results/jobs layout import the old path)."""
from .training.config import *  # noqa: F401,F403
from .training.config import TrainConfig, TrainResult, finetune_config  # noqa: F401
from .training.device import amp_dtype, cpu_bf16_supported, resolve_device  # noqa: F401
from .training.estimators import train_tree  # noqa: F401
from .training.epochs import make_optimizer, onecycle_lr, train_epoch, validation_loss  # noqa: F401
from .training.loop import train  # noqa: F401
from .training.restarts import run_directory, train_restarting  # noqa: F401
from .training.seeding import seed_everything  # noqa: F401
from .training.targets import output_layer, target_stats  # noqa: F401
