"""Pictures: one PNG per tensor (|x| histogram, log scale, negative values stacked apart, every
method's threshold marked, the chosen one's clipped fraction and SQNR in the title) and a one-page
summary: all thresholds relative to each tensor's max, and the chosen thresholds' SQNR against
FP32 with the flag line."""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..fileio import write_with
from .histogram import AbsHistogram

_COLOURS = {"max": "black", "percentile": "tab:green", "entropy": "tab:red", "entropy-trt": "tab:orange",
            "mse": "tab:blue"}


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


def plot_tensor(path: Path, name: str, h: AbsHistogram, thresholds: dict[str, float], chosen: str,
                stats=None, flag_db: float | None = None) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    if h.range_ > 0:
        edges = np.arange(h.bins + 1) * h.bin_width
        ax.stairs(np.maximum(h.counts, 0), edges, fill=True, color="0.6", label="|x|, all")
        if h.signed:
            ax.stairs(np.maximum(h.neg, 0), edges, fill=True, color="tab:purple", alpha=0.5, label="|x| of x < 0")
    ax.set_yscale("log")
    for method, t in thresholds.items():
        ax.axvline(t, color=_COLOURS.get(method, "purple"), lw=2.2 if method == chosen else 1.2,
                   ls="-" if method == chosen else "--", label=f"{method}: T={t:.5g}")
    ax.set_xlabel("|x|")
    ax.set_ylabel("count (log)")
    line2 = f"{h.total} values, {h.zeros} exact zeros (not drawn), max {h.amax:.5g}"
    if stats is not None:
        sq = f"{stats.sqnr_db:.1f} dB" if np.isfinite(stats.sqnr_db) else "exact"
        low = flag_db is not None and stats.sqnr_db < flag_db
        line2 += f"; {chosen}: clipped {100 * stats.clipped:.3g}%, SQNR {sq}" + (" LOW" if low else "")
    ax.set_title(f"{name}\n{line2}", fontsize=9, color="tab:red" if stats is not None and flag_db is not None
                 and stats.sqnr_db < flag_db else "black")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def plot_summary(path: Path, hists: dict[str, AbsHistogram], all_thresholds: dict[str, dict[str, float]],
                 stats: dict | None = None, flag_db: float | None = None) -> None:
    plt = _pyplot()
    names = list(hists)
    fig, axes = plt.subplots(2 if stats else 1, 1, figsize=(max(8, 0.25 * len(names) + 3), 9 if stats else 5),
                             squeeze=False, sharex=True)
    ax = axes[0][0]
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
    if stats:
        sq = axes[1][0]
        vals = np.array([stats[n].sqnr_db for n in names], dtype=float)
        finite = np.where(np.isfinite(vals), vals, np.nan)
        low = finite < (flag_db if flag_db is not None else -np.inf)
        sq.bar(x, np.nan_to_num(finite), color=np.where(low, "tab:red", "tab:blue"))
        if flag_db is not None:
            sq.axhline(flag_db, color="tab:red", ls="--", lw=1, label=f"flag: {flag_db:g} dB")
            sq.legend(fontsize=8)
        sq.set_ylabel("SQNR vs FP32 (dB), chosen T")
        sq.set_xticks(x, [n[-30:] for n in names], rotation=90, fontsize=6)
        sq.grid(alpha=0.3)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)


def write_plots(folder: str | Path, hists: dict[str, AbsHistogram], all_thresholds: dict[str, dict[str, float]],
                chosen: dict[str, str], stats: dict | None = None, flag_db: float | None = None) -> list[Path]:
    """Write every picture; returns the paths written. `chosen` names each tensor's method,
    `stats` (choose.TensorStats per tensor) its clipped fraction and SQNR."""
    folder = Path(folder)
    written = []
    for i, name in enumerate(hists):
        p = folder / safe_file_name(i, name)
        plot_tensor(p, name, hists[name], {m: ts[name] for m, ts in all_thresholds.items()}, chosen[name],
                    stats.get(name) if stats else None, flag_db)
        written.append(p)
    p = folder / "summary.png"
    plot_summary(p, hists, all_thresholds, stats, flag_db)
    written.append(p)
    return written
