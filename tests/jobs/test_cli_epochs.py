"""`python -m cicy4lib train` without --epochs runs up to the recipe's own maximum."""
import sys

import pytest

from cicy4lib.jobs import cli
from cicy4lib.training.recipes import PAPER_EPOCHS, recipe_epochs
from cicy4lib.training.recipes import list_recipes
from cicy4lib.training.config import TrainConfig


def _config(*argv):
    args = cli.build_parser().parse_args(["train", "LSTM-448", *argv])
    return cli.train_config(args)


@pytest.mark.parametrize("finetune", [[], ["--finetune"]])
@pytest.mark.parametrize("recipe, epochs", [("paper", 550), ("fast", 60), ("cicyminer", 300)])
def test_default_epochs_are_the_recipes(recipe, epochs, finetune):
    config = _config("--recipe", recipe, *finetune)
    assert config.recipe_name == recipe and config.max_epochs == epochs == recipe_epochs(recipe)
    assert _config("--recipe", recipe, "--epochs", "7", *finetune).max_epochs == 7


def test_recipe_epochs_agree_with_train_config():
    assert TrainConfig().max_epochs == PAPER_EPOCHS
    for recipe in list_recipes():
        assert TrainConfig.from_recipe(recipe).max_epochs == recipe_epochs(recipe)
    parser = cli.build_parser()  # the CLI offers exactly the registered recipes, for train and demo
    for argv in (["train", "LSTM-448", "--recipe"], ["demo", "--recipes"]):
        for recipe in list_recipes():
            parser.parse_args(argv + [recipe])
        with pytest.raises(cli.UsageError, match="invalid choice: 'turbo'"):
            parser.parse_args(argv + ["turbo"])


def test_help_shows_each_recipes_epochs(capsys):
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "default: the recipe's own, paper 550, fast 60, cicyminer 300" in text


def test_train_runs_with_the_recipes_maximum(monkeypatch, capsys):
    """The config the command hands to train(), and the line it prints (no training here)."""
    import cicy4lib.training.loop as train_mod

    seen = {}

    def fake_train(model, data, *, config, **kw):
        seen["config"] = config
        raise KeyboardInterrupt  # stop before any training

    monkeypatch.setattr(train_mod, "train", fake_train)
    assert cli.main(["train", "LSTM-448", "--recipe", "fast", "--max-samples", "50"]) == 130
    assert seen["config"].max_epochs == 60 and seen["config"].recipe_name == "fast"
    assert "up to 60 epochs, the fast recipe's maximum" in capsys.readouterr().out


def test_parser_needs_no_torch():
    import subprocess

    code = "import sys; from cicy4lib.jobs import cli; cli.build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
