"""Research training loop for HodgeNet variants (resumable, wall-clock budgeted).

    nice -n 10 .venv/bin/python benchmarks/learning/train_proto.py --data r2nr --hidden 96 --layers 6 \
        --minutes 10 --run h96l6 [--ntrain 10000] [--threads 1] [--head cls|reg] [--bf16]

The lr schedule follows wall-clock progress (warm-up 3 %, cosine to lr/50 at --minutes) so every
budget ends annealed; state.pt every epoch (resume: same command). Best epoch chosen on validation
("both right" = h11 and h21 right); test is read once at the end from that epoch's weights.
Writes runs/<run>/{state.pt,best.pt,log.csv,result.json}.
"""
import argparse, json, math, sys, time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from hodgenet_model import HodgeNet  # noqa: E402

HERE = Path(__file__).parent


def tensors(d, idx, R, C):
    p = torch.from_numpy(d["conf"][idx][:, :R, :C].astype(np.float32))
    chi = torch.from_numpy(d["euler"][idx].astype(np.float32))
    y = torch.from_numpy(d["hodge"][idx].astype(np.float32))
    return p, chi, y


@torch.no_grad()
def predict(model, p, chi, bs=2048, bf16=False):
    model.eval()
    out = []
    for i in range(0, len(p), bs):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out.append(model.hodge(p[i:i + bs], chi[i:i + bs]).float())
    model.train()
    return torch.cat(out)


def accuracies(pred, y):
    right = (pred.round() == y)
    acc = {k: float(right[:, i].float().mean()) for i, k in enumerate(["h11", "h21", "h31", "h22"])}
    acc["both"] = float((right[:, 0] & right[:, 1]).float().mean())
    return acc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="r2nr")
    ap.add_argument("--hidden", type=int, default=96)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--head", default="cls")
    ap.add_argument("--mlp", type=int, default=1, help="MLP width multiplier inside the layers")
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--wd", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ntrain", type=int, default=0)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--run", required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    d = dict(np.load(HERE / "_cache" / f"{a.data}.npz"))
    occ = d["conf"] != 0
    R, C = int(occ.any(2).sum(1).max()), int(occ.any(1).sum(1).max())
    tr = d["train"]
    if a.ntrain:
        tr = np.random.default_rng(0).permutation(tr)[:a.ntrain]
    xt, ct, yt = tensors(d, tr, R, C)
    xv, cv, yv = tensors(d, d["valid"], R, C)
    nr_t = (xt > 0).any(2).sum(1)
    nc_t = (xt > 0).any(1).sum(1)
    size_key = nr_t * 32 + nc_t
    model = HodgeNet(a.hidden, a.layers, a.head, mlp=a.mlp)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.wd)
    run = HERE / "runs" / a.run
    run.mkdir(parents=True, exist_ok=True)
    state_path = run / "state.pt"
    st = {"epoch": 0, "elapsed": 0.0, "history": [], "best": -1.0}
    if state_path.exists():
        s = torch.load(state_path, weights_only=False)
        model.load_state_dict(s["model"]); opt.load_state_dict(s["opt"]); st = s["st"]
        torch.set_rng_state(s["rng"])
        print("resumed at epoch", st["epoch"], f"{st['elapsed']:.0f}s", flush=True)
    budget = a.minutes * 60
    n_par = sum(p.numel() for p in model.parameters())
    print(f"{a.run}: params {n_par:,} train {len(tr):,} R{R} C{C}", flush=True)
    while st["elapsed"] < budget:
        t0 = time.time()
        perm = torch.randperm(len(xt))
        # size buckets: sort each window of 32 batches by (rows, cols), cut into batches, shuffle the batches;
        # every batch is cropped to its own largest block (the model ignores padding)
        win = 32 * a.batch
        batches = []
        for w in range(0, len(perm), win):
            pw = perm[w:w + win]
            pw = pw[torch.argsort(size_key[pw], stable=True)]
            batches += [pw[j:j + a.batch] for j in range(0, len(pw) - a.batch + 1, a.batch)]
        order = torch.randperm(len(batches)).tolist()
        tot, nb = 0.0, 0
        for bi in order:
            frac = (st["elapsed"] + time.time() - t0) / budget
            if frac >= 1:
                break
            lr = a.lr * (frac / 0.03 if frac < 0.03 else 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * (frac - 0.03) / 0.97)))
            for g in opt.param_groups:
                g["lr"] = lr
            b = batches[bi]
            r, c = int(nr_t[b].max()), int(nc_t[b].max())
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
                loss = model.loss(xt[b][:, :r, :c], ct[b], yt[b])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
            opt.step()
            tot += float(loss.detach()); nb += 1
        train_s = time.time() - t0
        acc = accuracies(predict(model, xv, cv, bf16=a.bf16), yv)
        st["elapsed"] += time.time() - t0
        st["epoch"] += 1
        rec = {"epoch": st["epoch"], "elapsed": round(st["elapsed"], 1), "train_loss": tot / max(nb, 1),
               "samples_per_s": round(nb * a.batch / train_s), **{f"val_{k}": round(v, 5) for k, v in acc.items()}}
        st["history"].append(rec)
        print(json.dumps(rec), flush=True)
        if acc["both"] > st["best"]:
            st["best"] = acc["both"]
            torch.save(model.state_dict(), run / "best.pt")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "st": st, "rng": torch.get_rng_state()},
                   state_path)
    model.load_state_dict(torch.load(run / "best.pt"))
    xs, cs, ys = tensors(d, d["test"], R, C)
    test = accuracies(predict(model, xs, cs, bf16=a.bf16), ys)
    best = max(st["history"], key=lambda r: r["val_both"])
    res = {"args": vars(a), "params": n_par, "n_train": len(tr), "epochs": st["epoch"], "wall_s": round(st["elapsed"]),
           "best_epoch": best["epoch"], "val": {k[4:]: v for k, v in best.items() if k.startswith("val_")},
           "test": test, "date": time.strftime("%Y-%m-%d %H:%M")}
    (run / "result.json").write_text(json.dumps(res, indent=1))
    import pandas as pd
    pd.DataFrame(st["history"]).to_csv(run / "log.csv", index=False)
    print("RESULT", json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
