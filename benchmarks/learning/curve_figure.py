"""The learning-curve figure alone: test accuracy (h11, h21) vs training configurations for the points of
``learning_curve.py`` (runs/curve_<data>/*/test.json), the favourable guess on the same test rows, the
long run of ``train_final.py`` as a star, and CICYMiner's published classifier points on the REAL CICY4
list (other data and sizes: shown for scale, not comparable one to one).

    .venv/bin/python benchmarks/learning/curve_figure.py --data r3 [--out Results_p1_Figures/fig_learning_curve.png]
"""
import argparse, json, sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

SELECTION = {"r2nr": "generated set release 2, non-redundant entries only", "r3": "generated set release 3",
             "r3.0": "generated set release 3, first edition (55,645 entries)",
             "r2": "generated set release 2"}
# CICYMiner's single-task Inception classifiers on the REAL CICY4 list (SPEC 6b): % of 905,684 -> h11, h21
CICYMINER_CLS = {10: (99.26, 86.2), 30: (99.41, 85.6), 50: (99.58, 93.0), 80: (99.74, 94.3)}
REAL_LIST = 905_684


def guess_accuracy(data_name):
    """The favourable guess (h11 = rows, h21 = 0) on the 72 % split's test rows: (h11 %, h21 %, n_test, n_data)."""
    from cicy4lib.data.splits import split_72
    from prep import load

    data = load(data_name)
    test = split_72(len(data)).test
    rows = (data.conf[test] != 0).any(2).sum(1)
    y = data.hodge[test]
    return 100 * float(np.mean(y[:, 0] == rows)), 100 * float(np.mean(y[:, 1] == 0)), len(test), len(data)


def plot(points, out, *, sel, n_test, guess=None, long_runs=()):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 6.2), layout="constrained")
    styles = {"HodgeGNN-64": dict(color="tab:blue", marker="o"), "LSTM-448": dict(color="tab:orange", marker="s")}
    for ax, h in zip(axes, ("h11", "h21")):
        for model in sorted({p["model"] for p in points}):
            pts = sorted((p["n_train"], p["test_accuracy_percent"][f"raw_{h}"]) for p in points if p["model"] == model)
            mins = sorted({p["budget_min"] for p in points if p["model"] == model})
            recipe = "own recipe" if model.startswith("HodgeGNN") else "fast recipe, adaptive batch"
            ax.plot(*zip(*pts), "-", markersize=7, zorder=3, **styles.get(model, {}),
                    label=f"{model} ({recipe}), {'/'.join(f'{m:g}' for m in mins)}-min budget a point, 1 thread — generated data")
            for x, v in pts:
                ax.annotate(f"{v:.1f}", (x, v), textcoords="offset points", xytext=(6, -12), fontsize=7)
        for f in long_runs:
            ax.plot([f["n_train"]], [f["accuracy_percent"][f"test_raw_{h}"]], "*", markersize=20, color="navy",
                    markerfacecolor="none", zorder=1,
                    label=f"{f['model']}, shipped run: {f['epochs']} epochs, {f['train_seconds'] / 60:.1f} min — generated data")
        if guess is not None:
            ax.axhline(guess[0 if h == "h11" else 1], color="grey", ls="--", lw=1,
                       label=f"favourable guess ({'h11 = rows' if h == 'h11' else 'h21 = 0'}), same test rows")
        xs = [REAL_LIST * r / 100 for r in CICYMINER_CLS]
        ax.plot(xs, [v[0 if h == "h11" else 1] for v in CICYMINER_CLS.values()], "D:", color="black",
                label="CICYMiner classifier, REAL CICY4 list at 10/30/50/80 % (published; other data, not comparable one to one)")
        ax.set_xscale("log")
        ax.set_xlabel("training configurations")
        ax.set_ylabel(f"test accuracy {h} (%)")
        ax.grid(alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, [lab.replace("h11 = rows", "h11 = rows; h21 = 0 on the right") for lab in labels],
               loc="outside lower center", ncol=2, fontsize=8)
    fig.suptitle(f"Learning curve at the same wall-clock budget per point — {sel} (generated data, NOT the CICY4 list), "
                 f"72 % split, test {n_test:,}\nblack diamonds: published real-list figures at other sizes, for scale only",
                 fontsize=10)
    out.parent.mkdir(exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def markdown_table(points) -> str:
    """learning.md's table of the curve's points: test accuracy %, h11 and h21 raw (rounded outputs), h31 and h22
    χ-constrained (from the rounded h11, h21 and the exact χ; HodgeGNN outputs exactly these), raw h31/h22 after /."""
    lines = ["| model | training rows | batch / lr | epochs done / planned | stopped | training wall | load 1-min start → end "
             "| h11 | h21 | h31 constrained / raw | h22 constrained / raw | h11 and h21 | date |", "|" + "---|" * 13]
    order = {"HodgeGNN-64": 0, "LSTM-448": 1}
    for p in sorted(points, key=lambda p: (order.get(p["model"], 9), p["n_train"])):
        acc = p["test_accuracy_percent"]
        lines.append(f"| {p['model']} ({'own recipe' if p['recipe'] != 'fast' else 'fast recipe'}) | {p['n_train']:,} "
                     f"| {p['batch_size']} / {p['lr']:.2g} | {p['epochs']} / {p['planned_epochs']} | {p['stopped']} "
                     f"| {p['train_seconds']} s ({p['train_seconds'] / 60:.1f} min) "
                     f"| {p['loadavg_start'][0]} → {p['loadavg_end'][0]} "
                     f"| {acc['raw_h11']:.2f} | {acc['raw_h21']:.2f} | {acc['constrained_h31']:.2f} / {acc['raw_h31']:.2f} "
                     f"| {acc['constrained_h22']:.2f} / {acc['raw_h22']:.2f} "
                     f"| {acc['both_h11_h21']:.2f} | {p['date']} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="r3")
    ap.add_argument("--curve", default=None, help="default runs/curve_<data>")
    ap.add_argument("--out", default=str(ROOT / "Results_p1_Figures" / "fig_learning_curve.png"))
    ap.add_argument("--long-run", nargs="*", default=None, help="test.json of train_final.py runs (default: the "
                    "longest final_<data>_* run)")
    ap.add_argument("--guess", nargs=3, type=float, default=None, metavar=("H11", "H21", "N_TEST"),
                    help="the favourable guess's test accuracy and test size as recorded, instead of loading the data "
                         "(when the release has grown since the points were trained)")
    ap.add_argument("--title-data", default=None, help="the data's name in the title (default: SELECTION[data])")
    a = ap.parse_args()
    curve = Path(a.curve) if a.curve else HERE / "runs" / f"curve_{a.data}"
    points = [json.loads(p.read_text()) for p in sorted(curve.glob("*/test.json"))]
    points = [p for p in points if p["n_train"] >= 1000]  # smoke-test points are not part of the curve
    if a.long_run is None:
        finals = [json.loads(p.read_text()) for p in (HERE / "runs").glob(f"final_{a.data}_*/test.json")]
        long_runs = sorted(finals, key=lambda f: f["epochs"])[-1:]
    else:
        long_runs = [json.loads(Path(p).read_text()) for p in a.long_run]
    if a.guess:
        g11, g21, n_test = a.guess[0], a.guess[1], int(a.guess[2])
    else:
        g11, g21, n_test, n_data = guess_accuracy(a.data)
        other = {p.get("n_data") for p in points} - {None, n_data}
        if other:  # the release grew or changed since the points were trained: their split is another one
            raise SystemExit(f"the curve's points were trained on {other} entries, {a.data} has {n_data} now; "
                             "pass --guess with the recorded favourable guess")
    out = plot(points, Path(a.out), sel=a.title_data or SELECTION.get(a.data, a.data), n_test=n_test, guess=(g11, g21),
               long_runs=long_runs)
    print(out, len(points), "points; guess", round(g11, 2), round(g21, 2))
    print(markdown_table(points))


if __name__ == "__main__":
    main()
