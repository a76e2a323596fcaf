"""The paper's figures regenerated from the shipped checkpoints on the generated set (never the real list):
Hodge distributions, training curves, rankings with baselines and ensembles (raw and constrained),
MSE / MAE / R², the learning curve beside CICYMiner's published real-list points, and accuracy per
number of rows and per favourable / non-favourable for the best network vs the favourable guess.

    nice -n 10 .venv/bin/python benchmarks/learning/make_figures.py --data r2nr [--models-dir Results_p2_Trained_models]
        [--out Results_p1_Figures] [--curve runs/curve_r2nr] [--best HodgeGNN-64_72]

Tables go to runs/figures_<data>.json (and .md) for learning.md.
"""
import argparse, json, sys, time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
from common import HODGE, accuracy, chi_complete  # noqa: E402
from curve_figure import SELECTION, plot as plot_curve  # noqa: E402
from prep import load  # noqa: E402



def regression_metrics(pred, y):
    out = {}
    for name, f in (("mse", lambda p, t: np.mean((p - t) ** 2)), ("mae", lambda p, t: np.mean(np.abs(p - t))),
                    ("r2", lambda p, t: 1 - np.sum((p - t) ** 2) / np.sum((t - t.mean()) ** 2))):
        vals = {h: float(f(pred[:, i], y[:, i])) for i, h in enumerate(HODGE)}
        vals["mean"] = float(np.mean(list(vals.values())))
        out[name] = vals
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="r2nr")
    ap.add_argument("--models-dir", default=str(ROOT / "Results_p2_Trained_models"))
    ap.add_argument("--out", default=str(ROOT / "Results_p1_Figures"))
    ap.add_argument("--curve", default=None)
    ap.add_argument("--best", default="HodgeGNN-64_72")
    ap.add_argument("--runs", nargs="*", default=None, help="shipped run names to use (default: all)")
    ap.add_argument("--suffix", default="", help="appended to every figure name (e.g. _r3)")
    a = ap.parse_args()
    import torch
    torch.set_num_threads(1)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from cicy4lib.data.splits import split_72
    from cicy4lib.models.checkpoint import load_model
    from cicy4lib.results import figures
    from cicy4lib.results.baselines import favourable_guess
    from cicy4lib.results.evaluate import predict

    data = load(a.data)
    split = split_72(len(data))
    sel = SELECTION.get(a.data, a.data)
    note = f"({sel},\n72 % split, test {len(split.test):,} – not the CICY4 list)"
    out = Path(a.out)
    out.mkdir(exist_ok=True)
    y = data.hodge[split.test].astype(np.float64)
    chi = data.euler[split.test]
    rows = (data.conf[split.test] != 0).any(2).sum(1)
    made = []

    made.append(figures.plot_hodge_distributions(
        {n: data.hodge[i] for n, i in (("train", split.train), ("valid", split.valid), ("test", split.test))},
        out / f"fig_hodge_distributions_72{a.suffix}.png", title=f"Hodge numbers, 72 % split\n{note}"))

    runs = sorted(p.parent for p in Path(a.models_dir).glob("*/model.pt") if p.parent.name != "metricflow"
                  and (a.runs is None or p.parent.name in a.runs))
    preds, accs, metrics = {}, {}, {}
    for run in runs:
        model, cfg = load_model(run)
        p = predict(model, data.conf[split.test], scale=cfg.get("scale", 6.0), canonical=False)
        preds[run.name] = p
        accs[run.name] = accuracy(p, y, chi)
        metrics[run.name] = regression_metrics(p, y)
        if (run / "log.csv").exists():
            hist = pd.read_csv(run / "log.csv")
            unit = "cross-entropy (h11 - rows, h21)" if cfg["arch"].startswith("HodgeGNN") else \
                "Huber loss (standardised targets)" if cfg.get("recipe", {}).get("standardize_targets") else "Huber loss"
            made.append(figures.plot_training_curves(hist, out / f"fig_curves_{run.name}{a.suffix}.png", ylabel=unit,
                                                     title=f"{run.name}: training curves\n({sel},\n72 % split – not the CICY4 list)"))
    # ensembles: mean of all networks, and the mean of the paper-style members (LSTM/CNN-LSTM)
    names = list(preds)
    if len(names) > 1:
        ens = {"mean (all shipped)": names,
               "mean (LSTM/CNN-LSTM)": [n for n in names if not n.startswith("HodgeGNN")]}
        for ename, members in ens.items():
            if len(members) >= 2:
                p = np.mean([preds[m] for m in members], axis=0)
                preds[ename] = p
                accs[ename] = accuracy(p, y, chi)
                metrics[ename] = regression_metrics(p, y)
    fav = favourable_guess(data, split.test).astype(np.float64)
    accs["favourable guess (rows, 0, χ)"] = accuracy(fav, y, chi)
    metrics["favourable guess (rows, 0, χ)"] = regression_metrics(fav, y)
    groups = {n: ("baseline" if "guess" in n or "boosting" in n else "ensemble" if n.startswith("mean") else "member")
              for n in accs}
    gbr_file = HERE / "runs" / f"baselines_{a.data}.json"
    if gbr_file.exists():
        g = json.loads(gbr_file.read_text()).get("gradient boosting (HistGBR 500)")
        if g:
            accs["gradient boosting (HistGBR 500)"] = {f"{k}_{h}": 100 * g[h] for h in HODGE for k in ("raw", "constrained")}
            groups["gradient boosting (HistGBR 500)"] = "baseline"
    for kind in ("raw", "constrained"):
        table = pd.DataFrame({n: {h: v[f"{kind}_{h}"] for h in HODGE} for n, v in accs.items()}).T
        table["mean"] = table[list(HODGE)].mean(1)
        for h in (*HODGE, "mean"):
            made.append(figures.plot_ranking(table, h, out / f"fig_ranking_72_{h}_{kind}{a.suffix}.png", groups=groups,
                                             metric=f"test accuracy (%), {h}, {kind}",
                                             title=f"Ranking by {h} ({kind}): shipped networks, ensembles, baselines\n{note}"))
    for m in ("mse", "mae", "r2"):
        table = pd.DataFrame({n: v[m] for n, v in metrics.items()}).T
        made.append(figures.plot_metric_comparison(table, out / f"fig_metric_{m}_72{a.suffix}.png", metric=m, groups=groups,
                                                   title=f"{m.upper() if m != 'r2' else 'R²'} per Hodge number (raw outputs)\n{note}"))

    # accuracy per number of rows and favourable / non-favourable: best network vs the favourable guess
    per_rows = {}
    if a.best in preds:
        best = np.rint(preds[a.best])
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
        rr = np.arange(1, rows.max() + 1)
        for ax, i, h in ((axes[0], 0, "h11"), (axes[1], 1, "h21")):
            net = [100 * np.mean(best[rows == r, i] == y[rows == r, i]) if np.any(rows == r) else np.nan for r in rr]
            gs = [100 * np.mean(fav[rows == r, i] == y[rows == r, i]) if np.any(rows == r) else np.nan for r in rr]
            ax.plot(rr, net, "o-", label=a.best)
            ax.plot(rr, gs, "s--", color="grey", label="favourable guess (rows, 0)")
            for r in rr:
                n = int(np.sum(rows == r))
                if n:
                    ax.annotate(f"{n}", (r, 2), ha="center", fontsize=7, color="0.4")
            ax.set_xlabel("number of rows (test configurations per row count along the bottom)")
            ax.set_ylabel(f"test accuracy {h} (%)")
            ax.set_ylim(0, 102)
            ax.legend(loc="lower left", bbox_to_anchor=(0, 0.07))
            per_rows[h] = {"rows": rr.tolist(), "network": net, "favourable_guess": gs,
                           "n": [int(np.sum(rows == r)) for r in rr]}
        fig.suptitle(f"Accuracy per number of rows: {a.best} vs the favourable guess\n{note}")
        fig.savefig(out / f"fig_accuracy_per_rows{a.suffix}.png", dpi=110)
        plt.close(fig)
        made.append(out / f"fig_accuracy_per_rows{a.suffix}.png")
        favourable = y[:, 0] == rows
        per_rows["favourable"] = {
            k: {"n": int(m.sum()), "network_h11": 100 * float(np.mean(best[m, 0] == y[m, 0])),
                "network_h21": 100 * float(np.mean(best[m, 1] == y[m, 1])),
                "guess_h11": 100 * float(np.mean(fav[m, 0] == y[m, 0])),
                "guess_h21": 100 * float(np.mean(fav[m, 1] == y[m, 1]))}
            for k, m in (("favourable", favourable), ("non-favourable", ~favourable))}

    # learning curve
    curve = Path(a.curve) if a.curve else HERE / "runs" / f"curve_{a.data}"
    points = [json.loads(p.read_text()) for p in curve.glob("*/test.json")]
    points = [p for p in points if p["n_train"] >= 1000]  # smoke-test points are not part of the curve
    if points:  # the figure itself: curve_figure.py (also runnable alone)
        finals = [json.loads(f.read_text()) for f in (HERE / "runs").glob(f"final_{a.data}_*/test.json")]
        rows_all = (data.conf[split.test] != 0).any(2).sum(1)
        guess = (100 * float(np.mean(y[:, 0] == rows_all)), 100 * float(np.mean(y[:, 1] == 0)))
        made.append(plot_curve(points, out / f"fig_learning_curve{a.suffix}.png", sel=sel, n_test=len(split.test),
                               guess=guess, long_runs=sorted(finals, key=lambda f: f["epochs"])[-1:]))
    res = {"data": a.data, "selection": sel, "n_test": len(split.test), "date": time.strftime("%Y-%m-%d %H:%M"),
           "accuracy": accs, "metrics": metrics, "per_rows": per_rows, "curve": points,
           "figures": [str(Path(p).relative_to(ROOT)) if Path(p).is_relative_to(ROOT) else str(p) for p in made]}
    (HERE / "runs" / f"figures_{a.data}.json").write_text(json.dumps(res, indent=1, default=float))
    print("\n".join(res["figures"]))


if __name__ == "__main__":
    main()
