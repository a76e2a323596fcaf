"""Ship a finished run: model.pt (state_dict) + model.json (+ log.csv) into Results_p2_Trained_models/<name>/,
with the data selection recorded in model.json (its json_sha256 recomputed). No state.pt.

    .venv/bin/python benchmarks/learning/ship.py RUN_DIR NAME --selection TEXT [--fp16]

--fp16 stores floating weights as float16 (they load back into the float32 model; the weights'
sha256 in model.json is updated). Prints the size.
"""
import argparse, json, shutil
from pathlib import Path

import torch

from cicy4lib.models.checkpoint import JSON_SHA256_KEY, SHA256_KEY, config_sha256, file_sha256

ROOT = Path(__file__).resolve().parents[2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("name")
    ap.add_argument("--selection", required=True)
    ap.add_argument("--fp16", action="store_true")
    ap.add_argument("--note", default="")
    a = ap.parse_args()
    src, dst = Path(a.run), ROOT / "Results_p2_Trained_models" / a.name
    dst.mkdir(parents=True, exist_ok=True)
    cfg = json.loads((src / "model.json").read_text())
    if a.fp16:
        sd = torch.load(src / "model.pt", map_location="cpu", weights_only=True)
        sd = {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
        torch.save(sd, dst / "model.pt")
        cfg["weights_dtype"] = "float16 (loads back into the float32 model)"
    else:
        shutil.copyfile(src / "model.pt", dst / "model.pt")
    cfg.setdefault(SHA256_KEY, {})["weights"] = file_sha256(dst / "model.pt")
    cfg.get(SHA256_KEY, {}).pop("optimizer", None)  # state.pt is not shipped
    cfg["data_selection"] = a.selection
    data_info = cfg.get("data") or {}
    if data_info.get("folder") and Path(data_info["folder"]).is_relative_to(ROOT):
        data_info["folder"] = str(Path(data_info["folder"]).relative_to(ROOT))  # portable: relative to the checkout
    cfg["shipped_from"] = f"benchmarks/learning/{src.relative_to(Path(__file__).parent)}" if src.is_relative_to(Path(__file__).parent) else str(src)
    if a.note:
        cfg["note"] = a.note
    cfg[JSON_SHA256_KEY] = config_sha256(cfg)
    (dst / "model.json").write_text(json.dumps(cfg, indent=2) + "\n")
    if (src / "log.csv").exists():
        shutil.copyfile(src / "log.csv", dst / "log.csv")
    from cicy4lib.models.checkpoint import load_model
    load_model(dst)  # refuses a mismatch
    size = sum(p.stat().st_size for p in dst.iterdir())
    print(f"shipped {dst} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
