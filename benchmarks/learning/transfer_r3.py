"""The r2nr-trained HodgeGNN-64 on release 3's 72 % test rows that release 2 does not hold (never seen).

    nice -n 10 .venv/bin/python benchmarks/learning/transfer_r3.py [RUN_DIR]
"""
import json, sys, time
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from common import accuracy, score_run  # noqa: E402
from prep import load  # noqa: E402


def main():
    run = sys.argv[1] if len(sys.argv) > 1 else str(HERE.parents[1] / "Results_p2_Trained_models" / "HodgeGNN-64_72_r2nr")
    from cicy4lib.data.splits import split_72
    from cicy4lib.results.baselines import favourable_guess
    r3 = load("r3")
    r2 = load("r2")
    seen = {m.tobytes() for m in r2.conf}
    test = split_72(len(r3)).test
    keep = test[np.array([m.tobytes() not in seen for m in r3.conf[test]])]
    net, _ = score_run(run, r3, keep)
    fav = accuracy(favourable_guess(r3, keep).astype(float), r3.hodge[keep].astype(float), r3.euler[keep])
    out = {"run": run, "n_test_r3": len(test), "n_unseen": len(keep), "network": net, "favourable": fav,
           "date": time.strftime("%Y-%m-%d %H:%M")}
    (HERE / "runs" / "transfer_r3.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
