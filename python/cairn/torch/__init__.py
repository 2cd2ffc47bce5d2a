"""PyTorch layer of Cairn.

`odeint`, a drop-in for torchdiffeq's, whose gradient is the exact gradient of the discrete solver
and whose forward pass keeps a bounded number of checkpoints:

    ys = cairn.torch.odeint(func, y0, t, method="rk4", step_size=0.01, checkpoints=20)

`checkpoint_sequential`, a drop-in for torch.utils.checkpoint's, trained by the optimal plan for
the chain's profiled layer costs within a memory budget, and `GraphModule`, the same for networks
with skip connections (declared as blocks, or read by torch.fx):

    y = cairn.torch.checkpoint_sequential(model, x, memory=200 * 2**20)
    net = cairn.torch.GraphModule([("enc", enc, []), ("mid", mid, ["enc"]),
                                   ("dec", dec, ["mid", "enc"])], memory=100 * 2**20)

See docs/python.md and docs/deep_networks.md for what is exact, what it costs and how it differs.
"""
from ._checkpoint_grid import checkpoint_grid
from ._graph_module import GraphModule
from ._odeint import odeint, solve_taped
from ._plan import TrainingPlan
from ._profile import LayerProfile
from ._sequential import checkpoint_sequential, plan_sequential
from ._tableaux import TABLEAUX, Tableau

METHODS = tuple(sorted(TABLEAUX))

__all__ = ["odeint", "solve_taped", "METHODS", "Tableau", "checkpoint_sequential",
           "plan_sequential", "GraphModule", "TrainingPlan", "LayerProfile", "checkpoint_grid"]
