"""The metric-flow notebooks of issue 22 (``Models_Metric-flows/``): which notebook comes from which
``metricflow_*.nbtpl`` template with which values. :mod:`.render` renders them with the rest of the
collection (``generate`` writes them, ``generate --check`` finds hand edits);
``run Models_Metric-flows/...`` executes them. Data only (no imports from render: no cycle).
"""
from __future__ import annotations

from pathlib import Path

METRICFLOW_DIR = "Models_Metric-flows"

# notebook stem -> (template stem, placeholder values)
METRICFLOW_NOTEBOOKS = {
    "sampling": ("metricflow_sampling", {}),
    "phi_model": ("metricflow_model", {
        "model": "phi", "title": "φ-model: g = g_FS + ∂∂̄φ_NN",
        "description": "A Kähler-potential correction φ (3 hidden layers of 64, GELU) of the projective "
                       "invariants z_i z̄_j/|z|², so g is Kähler by construction and the same in every chart. "
                       "Trained with the weighted Monge–Ampère loss ⟨|1 − det g/(κ|Ω|²)|⟩_w (κ of "
                       "Fubini–Study, fixed by the Kähler class). The headline network of issue 22: "
                       "σ_val against σ_FS.",
        "epochs": 80, "batch_size": 500, "lr": 0.002, "lr_decay": 0.95, "dtype": "float32"}),
    "multiplicative_model": ("metricflow_model", {
        "model": "multiplicative", "title": "Multiplicative model: g = g_FS ⊙ (1 + g_NN)",
        "description": "A Hermitian correction g_NN (9 real outputs of 3 hidden layers of 64, GELU, from "
                       "Re z, Im z) multiplies the Fubini–Study metric entry by entry. σ sees only det g: "
                       "this model is not Kähler (the notebook prints its Kähler defect), so a small σ here "
                       "does not mean a Ricci-flat metric; the φ-model is the headline.",
        "epochs": 50, "batch_size": 500, "lr": 0.002, "lr_decay": 0.95, "dtype": "float64"}),
    "threefold": ("metricflow_threefold", {}),
}


def metricflow_notebook_paths(root) -> list[Path]:
    return [Path(root) / METRICFLOW_DIR / f"{stem}.ipynb" for stem in METRICFLOW_NOTEBOOKS]

