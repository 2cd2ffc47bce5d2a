"""Plot the blocked grid scheme's cost surface over (bt, bl) (docs/grid.md).

Reads the CSV of `cairn_bench_grid_planning --surface T L FILE` (every block size priced by the
exact formulas) and draws two panels: the peak state memory M(bt, bl) with its exact minimum and
the continuous optimum ((T L)^(1/3), or the square root once clamped), and the recomputed
fraction R / (T L) with the least-recomputation block sizes for three budgets.

Usage: grid_surface.py FILE.csv T L OUT.png
"""
import csv
import math
import sys
from typing import Dict, List, Tuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def read(path: str) -> List[Dict[str, int]]:
    with open(path, newline="") as f:
        return [{k: int(v) for k, v in row.items()} for row in csv.DictReader(f)]


def main() -> int:
    path, steps, layers, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    rows = read(path)
    peak = np.zeros((layers, steps))
    recomputed = np.zeros((layers, steps))
    for r in rows:
        peak[r["bl"] - 1, r["bt"] - 1] = r["peak_cells"]
        recomputed[r["bl"] - 1, r["bt"] - 1] = r["recomputes"] / (steps * layers)
    bt = np.arange(1, steps + 1)
    bl = np.arange(1, layers + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))

    image = left.pcolormesh(bt, bl, np.log10(peak), shading="nearest", cmap="viridis")
    fig.colorbar(image, ax=left, label="log10 peak state cells")
    j, i = np.unravel_index(np.argmin(peak), peak.shape)
    left.plot(i + 1, j + 1, "r*", markersize=14,
              label=f"least peak: {i + 1} x {j + 1}, {int(peak[j, i])} cells")
    b = (steps * layers) ** (1 / 3)
    cont: Tuple[float, float] = (b, b) if b <= layers else (math.sqrt(steps), layers)
    left.plot(*cont, "wo", markersize=9, markerfacecolor="none", markeredgewidth=2,
              label=f"continuous optimum ({cont[0]:.0f} x {cont[1]:.0f})")
    left.set_xscale("log")
    left.set_xlabel("bt (steps per block)")
    left.set_ylabel("bl (layers per block)")
    left.set_title(f"peak memory, T = {steps}, L = {layers}")
    left.legend(loc="lower left", fontsize=8)

    image = right.pcolormesh(bt, bl, recomputed, shading="nearest", cmap="magma")
    fig.colorbar(image, ax=right, label="recomputed cells / (T L)")
    unit = (steps * layers) ** (2 / 3)
    for k, marker in ((3, "c^"), (6, "cs"), (12, "cD")):
        budget = k * unit
        fits = peak <= budget
        if not fits.any():
            continue
        masked = np.where(fits, recomputed, np.inf)
        j, i = np.unravel_index(np.argmin(masked), masked.shape)
        right.plot(i + 1, j + 1, marker, markersize=9,
                   label=f"budget {budget:.0f}: {i + 1} x {j + 1}, R/TL = {masked[j, i]:.3f}")
    right.set_xscale("log")
    right.set_xlabel("bt (steps per block)")
    right.set_ylabel("bl (layers per block)")
    right.set_title("recomputation, and the optimum for a budget")
    right.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
