"""Standardised targets (the fast recipe): statistics of the train set, and folding them into the
output layer so that a saved model outputs raw Hodge numbers."""
from __future__ import annotations

import copy

import torch

from ..errors import ConfigurationError
from ..models.hooks import hooks_of


def target_stats(y: torch.Tensor):
    """Per-column mean and standard deviation (float32, on ``y``'s device); a constant column gets std 1."""
    y64 = y.double()
    mean = y64.mean(dim=0)
    std = y64.std(dim=0, unbiased=False) if len(y64) > 1 else torch.ones_like(mean)
    std = torch.where(std > 1e-6, std, torch.ones_like(std))
    return mean.float(), std.float()


def output_layer(model) -> torch.nn.Linear:
    """The last linear layer (the one mapping to the 4 outputs): ``model.output_layer`` if defined,
    else ``model.fc2``, else the last ``nn.Linear`` with 4 outputs."""
    layer = getattr(model, "output_layer", None)
    if callable(layer) and not isinstance(layer, torch.nn.Module):
        layer = layer()
    if layer is None:
        layer = getattr(model, "fc2", None)
    if not isinstance(layer, torch.nn.Linear):
        linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear) and m.out_features == 4]
        layer = linears[-1] if linears else None
    if layer is None or layer.bias is None:
        raise ConfigurationError(f"{type(model).__name__}: standardised targets need a final nn.Linear "
                                 "with a bias (or an output_layer attribute)")
    return layer


def output_name(model) -> str:
    layer = output_layer(model)
    return next((n for n, m in model.named_modules() if m is layer), "the output layer")


def folded_state_dict(model, stats) -> dict:
    """The state_dict with ``W <- diag(std) W``, ``b <- std * b + mean`` in the output layer."""
    name = output_name(model)
    prefix = f"{name}." if name else ""
    mean, std = stats
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    w, b = sd[prefix + "weight"], sd[prefix + "bias"]
    sd[prefix + "weight"] = w * std.to(w).unsqueeze(1)
    sd[prefix + "bias"] = b * std.to(b) + mean.to(b)
    return sd


def raw_output_model(model, stats):
    """``model`` itself (raw targets), or a copy whose output layer absorbs the de-standardisation."""
    if stats is None:
        return model
    raw = copy.deepcopy(model)
    raw.load_state_dict(folded_state_dict(model, stats))
    return raw


def check_foldable(model, xb, stats) -> None:
    """Refuse standardised targets for a model whose output is not an affine image of its last Linear."""
    if hooks_of(model).training_loss is not None:
        raise ConfigurationError(f"{type(model).__name__} defines its own training_loss: "
                                 "standardised targets do not apply (use its own recipe)")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            want = model(xb).float() * stats[1] + stats[0]
            got = raw_output_model(model, stats).eval()(xb).float()
    finally:
        model.train(was_training)
    if not torch.allclose(got, want, rtol=1e-4, atol=1e-3 * float(stats[1].max())):
        raise ConfigurationError(f"{type(model).__name__}: its output is not its last linear layer's, "
                                 "so the target standardisation cannot be folded into the saved model")
