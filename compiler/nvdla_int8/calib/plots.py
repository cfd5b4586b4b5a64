"""Pictures: one PNG per tensor (|x| histogram, log scale, every method's threshold marked) and a
one-page summary of all thresholds relative to each tensor's max."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..fileio import write_with
from .histogram import AbsHistogram

_COLOURS = {"max": "black", "percentile": "tab:green", "entropy": "tab:red", "mse": "tab:blue"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")   # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def safe_file_name(index: int, name: str) -> str:
    """File name for a tensor: its position (names may collide once sanitised) and a clean name.

    >>> safe_file_name(3, "(Unnamed Layer* 0) [Convolution]_output")
    '003_Unnamed_Layer_0_Convolution__output.png'
    """
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_.")[:80] or "tensor"
    return f"{index:03d}_{clean}.png"


def _save(fig, path: Path) -> None:
    write_with(path, lambda f: fig.savefig(f, format="png", dpi=90))


def plot_tensor(path: Path, name: str, h: AbsHistogram, thresholds: dict[str, float], chosen: str) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    if h.range_ > 0:
        edges = np.arange(h.bins + 1) * h.bin_width
        ax.stairs(np.maximum(h.counts, 0), edges, fill=True, color="0.6")
    ax.set_yscale("log")
    for method, t in thresholds.items():
        ax.axvline(t, color=_COLOURS.get(method, "purple"), lw=2.2 if method == chosen else 1.2,
                   ls="-" if method == chosen else "--", label=f"{method}: T={t:.5g}")
    ax.set_xlabel("|x|")
    ax.set_ylabel("count (log)")
    ax.set_title(f"{name}\n{h.total} values, {h.zeros} exact zeros (not drawn), max {h.amax:.5g}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def plot_summary(path: Path, hists: dict[str, AbsHistogram], all_thresholds: dict[str, dict[str, float]]) -> None:
    plt = _pyplot()
    names = list(hists)
    fig, ax = plt.subplots(figsize=(max(8, 0.25 * len(names) + 3), 5))
    x = np.arange(len(names))
    for method, ts in all_thresholds.items():
        rel = [ts[n] / hists[n].amax if hists[n].amax > 0 else np.nan for n in names]
        ax.plot(x, rel, "o-" if method != "max" else "-", ms=3, lw=1,
                color=_COLOURS.get(method, "purple"), label=method)
    ax.set_xticks(x, [n[-30:] for n in names], rotation=90, fontsize=6)
    ax.set_ylabel("threshold / max |x|")
    ax.set_title("Calibrated thresholds relative to each tensor's max (below 1 = values clipped)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def write_plots(folder: str | Path, hists: dict[str, AbsHistogram],
                all_thresholds: dict[str, dict[str, float]], chosen: str) -> list[Path]:
    """Write every picture; returns the paths written."""
    folder = Path(folder)
    written = []
    for i, name in enumerate(hists):
        p = folder / safe_file_name(i, name)
        plot_tensor(p, name, hists[name], {m: ts[name] for m, ts in all_thresholds.items()}, chosen)
        written.append(p)
    p = folder / "summary.png"
    plot_summary(p, hists, all_thresholds)
    written.append(p)
    return written
