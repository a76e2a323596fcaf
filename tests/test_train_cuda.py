"""The GPU path (run by benchmarks/gpu_check.sh; skipped without CUDA): mixed precision trains,
no host synchronisation inside an epoch, compile, batched evaluation, determinism of fp32 runs."""
from __future__ import annotations

import warnings

import pytest
import torch

from cicy4lib.training import loop as train_mod
from cicy4lib.training.config import TrainConfig
from cicy4lib.training.device import amp_dtype
from cicy4lib.training.loop import make_optimizer, train

from training.test_train import MODEL, make_data

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]


def cfg(**kw):
    return TrainConfig(**{**dict(batch_size=16, max_epochs=3, lr=0.003, seed=7, device="cuda"), **kw})


def test_amp_dtype_follows_the_hardware():
    major, _ = torch.cuda.get_device_capability()
    assert amp_dtype(torch.device("cuda")) == (torch.bfloat16 if major >= 8 else torch.float16)
    assert amp_dtype(torch.device("cuda"), TrainConfig(amp_dtype="float16")) == torch.float16


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_mixed_precision_trains(tmp_path, dtype):
    if dtype == "bfloat16" and not torch.cuda.is_bf16_supported():
        pytest.skip("no bfloat16 on this GPU")
    data, split = make_data()
    res = train(MODEL, data, split, cfg(amp=True, amp_dtype=dtype, max_epochs=4), output_dir=tmp_path,
                progress=False)
    assert res.history["val_loss"].iloc[-1] < res.history["val_loss"].iloc[0]


def test_fp32_gpu_runs_are_reproducible(tmp_path):
    data, split = make_data()
    a = train(MODEL, data, split, cfg(), output_dir=tmp_path, run_name="a", progress=False)
    b = train(MODEL, data, split, cfg(), output_dir=tmp_path, run_name="b", progress=False)
    assert a.history["val_loss"].tolist() == b.history["val_loss"].tolist()


def test_fast_recipe_on_gpu(tmp_path):
    data, split = make_data()
    res = train(MODEL, data, split, TrainConfig.fast(batch_size=16, max_epochs=3, device="cuda", amp=True),
                output_dir=tmp_path, progress=False)
    assert res.metrics["val_huber_raw"].notna().all()


@pytest.mark.parametrize("amp", [False, True])
def test_no_host_sync_inside_an_epoch(amp):
    torch.manual_seed(0)
    dev = torch.device("cuda")
    from cicy4lib.models import build_model

    model = build_model("LSTM-400").to(dev)
    opt = make_optimizer(model, TrainConfig())
    dtype = amp_dtype(dev) if amp else False
    scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
    x = torch.randint(0, 3, (512, 16, 20), dtype=torch.int8, device=dev)
    y = torch.rand(512, 4, device=dev) * 100
    perm = torch.randperm(512, device=dev)
    train_mod.train_epoch(model, x, y, perm, batch_size=64, optimizer=opt, amp=dtype, scaler=scaler, scale=6.0)
    torch.cuda.synchronize()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            train_mod.train_epoch(model, x, y, perm, batch_size=64, optimizer=opt, amp=dtype, scaler=scaler,
                                  scale=6.0, lr_at=lambda i: 1e-3)
        finally:
            torch.cuda.set_sync_debug_mode(0)
    syncs = [w for w in caught if "synchroniz" in str(w.message).lower()]
    assert len(syncs) <= 1, [str(w.message) for w in syncs]  # the one .item() at the end of the epoch


def test_compile_path(tmp_path):
    data, split = make_data()
    res = train(MODEL, data, split, cfg(compile=True, max_epochs=2), output_dir=tmp_path, progress=False)
    assert res.epochs == 2 and res.history["val_loss"].notna().all()
