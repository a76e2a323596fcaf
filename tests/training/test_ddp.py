"""Data-parallel training: a 2-process gloo run on CPU trains, writes from rank 0 only, resumes,
and its checkpoint loads. The process start-up (two interpreters importing torch) dominates:
about 10-20 s on the shared 2-core machine."""
from __future__ import annotations

import json
import os
import socket

import numpy as np
import torch

from cicy4lib.training import distributed

MODEL = "ResNet-GRU-256"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tiny():
    """test_train's tiny dataset with 96 rows and a 64/16/16 split (batches divide the 2 ranks)."""
    from cicy4lib.data.splits import Split
    from .test_train import make_data

    data, _ = make_data(n=96)
    return data, Split(train=np.arange(0, 64), valid=np.arange(64, 80), test=np.arange(80, 96), name="tiny")


def _worker(rank, world, port, out_dir):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank), CICY4_QUIET="1")
    torch.set_num_threads(1)
    from cicy4lib.training.config import TrainConfig
    from cicy4lib.training.loop import train

    device = distributed.init_from_env("cpu")
    data, split = _tiny()
    cfg = dict(batch_size=16, lr=0.003, seed=3, device=str(device), fused_optimizer=False)
    first = train(MODEL, data, split, TrainConfig(max_epochs=2, **cfg), output_dir=out_dir, run_name="ddp",
                  progress=False)
    resumed = train(MODEL, data, split, TrainConfig(max_epochs=4, **cfg), output_dir=out_dir, run_name="ddp",
                    progress=False)
    params = [p.detach().clone() for p in resumed.model.parameters()]
    flat = torch.cat([p.flatten() for p in params])
    gathered = [torch.zeros_like(flat) for _ in range(world)]
    torch.distributed.all_gather(gathered, flat)
    with open(os.path.join(out_dir, f"rank{rank}.json"), "w") as f:
        json.dump({"first_epochs": first.epochs, "epochs": resumed.epochs,
                   "val_loss": resumed.history["val_loss"].tolist(),
                   "train_loss": resumed.history["train_loss"].tolist(),
                   "ranks_agree": all(torch.equal(g, gathered[0]) for g in gathered)}, f)
    distributed.shutdown()


def test_shard_is_strided_and_equal_length(monkeypatch):
    perm = torch.arange(11)
    monkeypatch.setattr(distributed, "world_size", lambda: 3)
    parts = []
    for r in range(3):
        monkeypatch.setattr(distributed, "rank", lambda r=r: r)
        parts.append(distributed.shard(perm))
    assert [len(p) for p in parts] == [3, 3, 3]
    assert torch.equal(parts[1], torch.tensor([1, 4, 7])) and len(set(torch.cat(parts).tolist())) == 9


def test_two_process_gloo_run_trains_resumes_and_loads(tmp_path):
    import torch.multiprocessing as mp

    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert r0["first_epochs"] == 2 and r0["epochs"] == 4 and r0["ranks_agree"] and r1["ranks_agree"]
    assert r0["val_loss"] == r1["val_loss"]  # rank 0's validation loss decides everywhere
    assert r0["val_loss"][-1] < r0["val_loss"][0] and r0["train_loss"][-1] < r0["train_loss"][0]
    run = tmp_path / "ddp"
    meta = json.loads((run / "model.json").read_text())
    assert meta["world_size"] == 2 and len(open(run / "log.csv").read().splitlines()) == 5
    from cicy4lib.models.checkpoint import load_model

    model, cfg = load_model(run)
    assert cfg["arch"] == MODEL
    assert model(torch.rand(2, 16, 20)).shape == (2, 4)
