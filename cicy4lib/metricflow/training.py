"""Training a metric network in a resumable run directory.

A run directory holds::

    model.json   config (variety, model, recipe), architecture, per-epoch history, sha256 of model.pt
    model.pt     the network's state_dict (what is shipped; loads with weights_only=True)
    state.pt     resume state: optimizer state_dict and the epoch (weights_only=True too)
    log.txt      one line per epoch

All three data files are written together after every epoch with the library's atomic writer
(``cicy4lib.fileio.atomic_write_many``): a run killed at any moment resumes from its last
finished epoch, and on CPU the resumed run is bit-identical to an uninterrupted one (points from
the seed, batch order from ``seed`` and the epoch, deterministic kernels).

Loss: the weighted Monge–Ampère loss ``<|1 - det g/(κ|Ω|²)|^p>_w`` (``loss="ma"``; κ of
Fubini–Study on the training points, fixed: the Kähler class fixes the volume) or the batch σ
(``loss="sigma"``). Validation σ is measured on held-out points every epoch; "train σ" on up to
``sigma_train_points`` training points.

Threads: :func:`cicy4lib.threads.configure_threads` (``threads`` wins when given). Device: CUDA
when present (``device="auto"``); ``amp=True`` runs the multiplicative model's network under
bfloat16 autocast on CUDA (the φ-model's second derivatives stay in the model's dtype).
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ..errors import MetricFlowError
from ..fileio import atomic_write_many, jsonable, remove_stale_temp_files
from ..threads import configure_threads
from .geometry import det_real, prepare
from .measures import ma_loss_of, sigma_of
from .models import build_metric_model, metric_numpy, point_tensors
from .points import sample_points
from .variety import as_variety, from_configuration

MODEL_FILE, CONFIG_FILE, STATE_FILE, LOG_FILE = "model.pt", "model.json", "state.pt", "log.txt"
FORMAT = "cicy4lib.metricflow/1"


@dataclass
class MetricTrainConfig:
    model: str = "phi"                      # "phi" or "multiplicative"
    configuration: list = field(default_factory=lambda: [[5]])   # [[5]]: Fermat quintic
    n_points: int = 100_000                 # sampled points, split into train and validation
    val_fraction: float = 0.1
    epochs: int = 50
    batch_size: int = 1000
    lr: float = 1e-3
    lr_decay: float = 1.0                   # multiply the learning rate by this after every epoch
    loss: str = "ma"                        # "ma" or "sigma"
    p: int = 1                              # power of the MA loss
    seed: int = 0                           # points, split, initial weights, batch order
    variety_seed: int = 0                   # coefficients of a product's random polynomial
    hidden: tuple = (64, 64, 64)
    activation: str = "gelu"
    dtype: str = "float64"
    sigma_train_points: int = 10_000

    def check(self):
        if self.model not in ("phi", "multiplicative"):
            raise MetricFlowError(f"model {self.model!r}: 'phi' or 'multiplicative'")
        if self.loss not in ("ma", "sigma"):
            raise MetricFlowError(f"loss {self.loss!r}: 'ma' or 'sigma'")
        if self.dtype not in ("float64", "float32"):
            raise MetricFlowError(f"dtype {self.dtype!r}: 'float64' or 'float32'")
        if not 0 < self.val_fraction < 1:
            raise MetricFlowError(f"val_fraction {self.val_fraction}: must be in (0, 1)")
        if int(self.n_points) < 20 or int(self.batch_size) < 1 or int(self.epochs) < 0:
            raise MetricFlowError("n_points >= 20, batch_size >= 1 and epochs >= 0 are needed")
        return self


def _variety(cfg: MetricTrainConfig):
    return from_configuration(cfg.configuration, seed=cfg.variety_seed)


def make_data(cfg: MetricTrainConfig):
    """(train PointData, validation PointData) from the config's seed."""
    var = _variety(cfg)
    z = sample_points(cfg.n_points, var, seed=cfg.seed)
    perm = np.random.default_rng(cfg.seed + 7919).permutation(len(z))
    n_val = max(1, int(round(cfg.val_fraction * len(z))))
    data = prepare(z, var, check=False)
    return data.subset(perm[n_val:]), data.subset(perm[:n_val])


def sigma_kappa(model, data) -> tuple[float, float]:
    """(σ, κ) of ``model`` (None: Fubini–Study) at prepared points."""
    g = data.g_fs if model is None else metric_numpy(model, data)
    det_g = np.abs(det_real(g))
    w = data.weights
    return float(sigma_of(det_g, data.omega_abs2, w)), float(np.sum(w * det_g / data.omega_abs2) / np.sum(w))


def _torch_bytes(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _save(run: Path, model, opt, record: dict, log_line: str | None) -> None:
    weights = _torch_bytes({k: v.detach().cpu() for k, v in model.state_dict().items()})
    state = _torch_bytes({"optimizer": opt.state_dict(), "epoch": record["epoch"]})
    record = dict(record, sha256={"weights": hashlib.sha256(weights).hexdigest(),
                                  "state": hashlib.sha256(state).hexdigest()})
    text = json.dumps(jsonable(record), indent=2) + "\n"
    log = (run / LOG_FILE).read_bytes() if (run / LOG_FILE).exists() else b""
    if log_line:
        log += (log_line + "\n").encode()
    atomic_write_many([(run / MODEL_FILE, lambda f: f.write(weights)),
                       (run / STATE_FILE, lambda f: f.write(state)),
                       (run / LOG_FILE, lambda f: f.write(log)),
                       (run / CONFIG_FILE, lambda f: f.write(text.encode()))])


def _read_record(run: Path) -> dict:
    path = run / CONFIG_FILE
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise MetricFlowError(f"{run}: no {CONFIG_FILE}; not a metric-network run directory") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MetricFlowError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise MetricFlowError(f"{path}: not a metric-network model.json (format {FORMAT!r} expected)")
    return record


def _load_torch(path: Path, sha: str | None):
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        raise MetricFlowError(f"{path}: missing") from None
    if sha is not None and hashlib.sha256(blob).hexdigest() != sha:
        raise MetricFlowError(f"{path}: its SHA-256 differs from the one in {CONFIG_FILE} (changed or damaged)")
    try:
        return torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a damaged file here
        raise MetricFlowError(f"{path}: cannot be read as a weights-only torch file ({exc})") from None


def _config_from(record: dict) -> MetricTrainConfig:
    cfg = dict(record["config"])
    cfg["hidden"] = tuple(cfg.get("hidden", (64, 64, 64)))
    known = MetricTrainConfig.__dataclass_fields__
    return MetricTrainConfig(**{k: v for k, v in cfg.items() if k in known})


def load_metric_model(path, *, device="cpu"):
    """The network of a run directory (``model.json`` + ``model.pt``), in eval mode; its config is
    ``model.run_config`` and its history ``model.history``."""
    run = Path(path)
    if run.is_file():
        run = run.parent
    record = _read_record(run)
    cfg = _config_from(record)
    model = build_metric_model(cfg.model, _variety(cfg), cfg.hidden, cfg.activation,
                               dtype=getattr(torch, cfg.dtype))
    state = _load_torch(run / MODEL_FILE, record.get("sha256", {}).get("weights"))
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError) as exc:
        raise MetricFlowError(f"{run / MODEL_FILE}: weights do not fit the architecture in {CONFIG_FILE}: "
                              f"{str(exc).splitlines()[0]}") from None
    model.run_config = cfg
    model.history = record.get("history", [])
    return model.to(device).eval()


def _device(device: str):
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _resume(run: Path, cfg: MetricTrainConfig, cfg_json: dict, model, opt, resume: bool):
    """Load the run in ``run`` into ``model`` and ``opt``: (start epoch, history, finished). A run of
    another config, or one that may not be resumed, is refused."""
    record = _read_record(run)
    diff = sorted(k for k in cfg_json if record["config"].get(k) != cfg_json[k] and k != "epochs")
    if diff:  # more (or fewer) epochs is the same run: it continues (or stops) there
        raise MetricFlowError(f"{run} holds a run with another config (differs in {diff}); "
                              "pass overwrite=True or use another directory")
    if not resume:
        raise MetricFlowError(f"{run} holds a run; pass resume=True to continue or overwrite=True")
    model.load_state_dict(_load_torch(run / MODEL_FILE, record.get("sha256", {}).get("weights")))
    start, history = int(record.get("epoch", 0)), record.get("history", [])
    if not (run / STATE_FILE).exists() and start < cfg.epochs:
        raise MetricFlowError(f"{run}: {STATE_FILE} is missing (a shipped run keeps only its weights): "
                              f"cannot continue from epoch {start} to {cfg.epochs}; train into a new directory")
    if start >= cfg.epochs:
        return start, history, True
    state = _load_torch(run / STATE_FILE, record.get("sha256", {}).get("state"))
    opt.load_state_dict(state["optimizer"])
    return int(state["epoch"]), history, False


def _train_epoch(model, opt, tr: dict, cfg: MetricTrainConfig, epoch: int, kappa: float, use_amp: bool) -> float:
    """One epoch over the training points ``tr`` in a seeded random order; the mean loss."""
    model.train()
    n = len(tr["g_fs"])
    dev = tr["g_fs"].device
    gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
    perm = torch.randperm(n, generator=gen).to(dev)
    total, count = 0.0, 0
    for b in range(0, n, cfg.batch_size):
        idx = perm[b:b + cfg.batch_size]
        pts = {k: v[idx] for k, v in tr.items()}
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
            g = model(pts)
        det = torch.linalg.det(g.to(tr["g_fs"].dtype)).real
        if cfg.loss == "ma":
            loss = ma_loss_of(det, pts["omega_abs2"], pts["weights"], kappa, cfg.p)
        else:
            loss = sigma_of(det.abs(), pts["omega_abs2"], pts["weights"])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += float(loss.detach()) * len(idx)
        count += len(idx)
    return total / count


def train_metric(run_dir, config: MetricTrainConfig | None = None, *, resume: bool = True,  # run options beside the config, as the notebooks pass them
                 overwrite: bool = False, threads: int | None = None, device: str = "auto",
                 amp: bool = False, progress: bool = True, max_epochs_this_call: int | None = None,
                 verbose: bool = False):
    """Train (or resume) the run in ``run_dir``; returns ``(model, history)``.

    A run directory that holds a run of another config is refused (``overwrite=True`` starts over).
    ``max_epochs_this_call`` stops early (a later call resumes), as a kill would.
    """
    run = Path(run_dir)
    cfg = (config or MetricTrainConfig()).check()
    cfg.hidden = tuple(int(h) for h in cfg.hidden)
    n_threads = configure_threads(threads)
    dev = _device(device)
    dtype = getattr(torch, cfg.dtype)
    run.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(run)

    model = build_metric_model(cfg.model, _variety(cfg), cfg.hidden, cfg.activation, seed=cfg.seed,
                               dtype=dtype).to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    history, start = [], 0
    cfg_json = jsonable(asdict(cfg))
    if (run / CONFIG_FILE).exists() and not overwrite:
        start, history, finished = _resume(run, cfg, cfg_json, model, opt, resume)
        if finished:
            # a finished run shipped without its resume file (Results_p2_Trained_models/metricflow/)
            model.eval()
            model.run_config, model.history = cfg, history
            return model, history
    elif overwrite:
        for name in (MODEL_FILE, STATE_FILE, LOG_FILE, CONFIG_FILE):
            (run / name).unlink(missing_ok=True)

    t_data = time.perf_counter()
    train, val = make_data(cfg)
    t_data = time.perf_counter() - t_data
    kappa = sigma_kappa(None, train)[1]
    sub = train.subset(slice(0, min(len(train), cfg.sigma_train_points)))
    tr = point_tensors(train, dtype=dtype, device=dev)
    n = len(train)

    def record_of(epoch):
        return {"format": FORMAT, "config": cfg_json, "arch": model.arch(), "epoch": epoch,
                "kappa_fs": kappa, "n_train": n, "n_val": len(val), "history": history,
                "library": "cicy4lib.metricflow", "torch": torch.__version__}

    if start == 0:
        s_val, _ = sigma_kappa(model, val)
        s_tr, _ = sigma_kappa(model, sub)
        history = [{"epoch": 0, "loss": None, "sigma_train": s_tr, "sigma_val": s_val, "seconds": 0.0}]
        _save(run, model, opt, record_of(0), f"epoch 0 sigma_train {s_tr:.5f} sigma_val {s_val:.5f} "
              f"(points {t_data:.1f} s, threads {n_threads}, device {dev})")

    last = cfg.epochs if max_epochs_this_call is None else min(cfg.epochs, start + int(max_epochs_this_call))
    bar = None
    if progress and not os.environ.get("CICY4_QUIET"):
        bar = tqdm(total=cfg.epochs, initial=start, desc=f"{cfg.model} metric", unit="epoch", dynamic_ncols=True)
    use_amp = amp and dev.type == "cuda" and cfg.model == "multiplicative"
    for epoch in range(start + 1, last + 1):
        for group in opt.param_groups:
            group["lr"] = cfg.lr * cfg.lr_decay ** (epoch - 1)
        t0 = time.perf_counter()
        mean_loss = _train_epoch(model, opt, tr, cfg, epoch, kappa, use_amp)
        seconds = time.perf_counter() - t0
        model.eval()
        s_val, k_val = sigma_kappa(model, val)
        s_tr, _ = sigma_kappa(model, sub)
        history.append({"epoch": epoch, "loss": mean_loss, "sigma_train": s_tr, "sigma_val": s_val,
                        "kappa_val": k_val, "seconds": seconds})
        line = (f"epoch {epoch} loss {mean_loss:.5f} sigma_train {s_tr:.5f} sigma_val {s_val:.5f} "
                f"({seconds:.1f} s)")
        _save(run, model, opt, record_of(epoch), line)
        if verbose:
            print(line, flush=True)
        if bar is not None:
            bar.set_postfix(sigma_val=f"{s_val:.4f}")
            bar.update(1)
    if bar is not None:
        bar.close()
    model.eval()
    model.run_config = cfg
    model.history = history
    return model, history


def main(argv=None):
    """``python -m cicy4lib.metricflow.training RUN_DIR [--key value ...]`` (config fields)."""
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("run_dir")
    for name, f in MetricTrainConfig.__dataclass_fields__.items():
        if name in ("configuration", "hidden"):
            ap.add_argument(f"--{name}", type=json.loads)
        else:
            default = f.default
            ap.add_argument(f"--{name}", type=type(default))
    ap.add_argument("--threads", type=int)
    ap.add_argument("--overwrite", action="store_true")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--max-epochs-this-call", type=int)
    args = vars(ap.parse_args(argv))
    cfg = MetricTrainConfig(**{k: v for k, v in args.items() if k in MetricTrainConfig.__dataclass_fields__
                               and v is not None})
    train_metric(args["run_dir"], cfg, threads=args["threads"], overwrite=args["overwrite"],
                 progress=not args["no_progress"], max_epochs_this_call=args["max_epochs_this_call"],
                 verbose=True)


if __name__ == "__main__":
    main()
