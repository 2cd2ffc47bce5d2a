"""PyTorch layer of Cairn: `odeint`, a drop-in for torchdiffeq's, whose gradient is the exact
gradient of the discrete solver and whose forward pass keeps a bounded number of checkpoints.

    import cairn.torch
    ys = cairn.torch.odeint(func, y0, t, method="rk4", step_size=0.01, checkpoints=20)
    loss(ys).backward()

See docs/python.md for what is exact, what it costs and how it differs from torchdiffeq.
"""
from ._odeint import odeint, solve_taped
from ._tableaux import TABLEAUX, Tableau

METHODS = tuple(sorted(TABLEAUX))

__all__ = ["odeint", "solve_taped", "METHODS", "Tableau"]
