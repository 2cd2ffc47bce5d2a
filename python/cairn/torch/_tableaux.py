"""Butcher tableaux of the explicit Runge-Kutta methods that cairn.torch.odeint integrates with.

One function, `solution_step`, computes a step from a tableau. The forward pass, every
recomputation in the backward pass and the taped step that is reversed all call it, with the same
operations in the same order, so a recomputed state is bitwise equal to the one the forward pass
produced (autograd does not change forward arithmetic).
"""
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, List, Optional, Sequence, Tuple

import torch

VectorField = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
TimeFactory = Callable[[float], torch.Tensor]


@dataclass(frozen=True)
class Tableau:
    """An explicit Runge-Kutta method.

    `a[i]` holds the coefficients of stage i on stages 0..i-1, `c[i]` its time fraction and `b`
    the weights of the solution. Adaptive methods add `error` (the weights b - b_hat of the
    embedded error estimate, over all stages, the FSAL stage included) and `order` (the order
    that step-size control uses). With `fsal`, the last stage is f(t + h, y_1) and is the first
    stage of the next step; `solution_stages` stages are enough for the solution itself.
    """

    name: str
    c: Tuple[float, ...]
    a: Tuple[Tuple[float, ...], ...]
    b: Tuple[float, ...]
    error: Optional[Tuple[float, ...]] = None
    order: int = 1
    fsal: bool = False

    @property
    def stages(self) -> int:
        return len(self.c)

    @property
    def solution_stages(self) -> int:
        """Stages the solution needs: trailing stages with zero weight are left out."""
        count = len(self.b)
        while count > 1 and self.b[count - 1] == 0:
            count -= 1
        return count

    @property
    def adaptive(self) -> bool:
        return self.error is not None


def _floats(values: Sequence) -> Tuple[float, ...]:
    return tuple(float(Fraction(v)) for v in values)


def _tableau(name: str, c, a, b, error_hat=None, order: int = 1, fsal: bool = False) -> Tableau:
    """Builds a tableau from exact fractions; the error weights are b - b_hat."""
    error = None
    if error_hat is not None:
        error = tuple(float(Fraction(x) - Fraction(y)) for x, y in zip(b, error_hat))
    return Tableau(name, _floats(c), tuple(_floats(row) for row in a), _floats(b), error, order,
                   fsal)


TABLEAUX = {
    "euler": _tableau("euler", ["0"], [[]], ["1"]),
    "midpoint": _tableau("midpoint", ["0", "1/2"], [[], ["1/2"]], ["0", "1"]),
    # Kutta's classic fourth-order rule.
    "rk4": _tableau("rk4", ["0", "1/2", "1/2", "1"],
                    [[], ["1/2"], ["0", "1/2"], ["0", "0", "1"]],
                    ["1/6", "1/3", "1/3", "1/6"]),
    # Kutta's 3/8 rule: what torchdiffeq's fixed-grid method "rk4" uses.
    "rk38": _tableau("rk38", ["0", "1/3", "2/3", "1"],
                     [[], ["1/3"], ["-1/3", "1"], ["1", "-1", "1"]],
                     ["1/8", "3/8", "3/8", "1/8"]),
    # Bogacki-Shampine 3(2), first same as last.
    "bosh3": _tableau("bosh3", ["0", "1/2", "3/4", "1"],
                      [[], ["1/2"], ["0", "3/4"], ["2/9", "1/3", "4/9"]],
                      ["2/9", "1/3", "4/9", "0"],
                      error_hat=["7/24", "1/4", "1/3", "1/8"], order=3, fsal=True),
    # Dormand-Prince 5(4), first same as last.
    "dopri5": _tableau(
        "dopri5", ["0", "1/5", "3/10", "4/5", "8/9", "1", "1"],
        [[], ["1/5"], ["3/40", "9/40"], ["44/45", "-56/15", "32/9"],
         ["19372/6561", "-25360/2187", "64448/6561", "-212/729"],
         ["9017/3168", "-355/33", "46732/5247", "49/176", "-5103/18656"],
         ["35/384", "0", "500/1113", "125/192", "-2187/6784", "11/84"]],
        ["35/384", "0", "500/1113", "125/192", "-2187/6784", "11/84", "0"],
        error_hat=["5179/57600", "0", "7571/16695", "393/640", "-92097/339200", "187/2100",
                   "1/40"],
        order=5, fsal=True),
}
ALIASES = {"rk4_38": "rk38", "rk4_classic": "rk4", "dopri5_fixed": "dopri5"}


def tableau(method: str) -> Tableau:
    name = ALIASES.get(method, method)
    if name not in TABLEAUX:
        known = ", ".join(sorted(set(TABLEAUX) | set(ALIASES)))
        raise ValueError(f"cairn.torch.odeint: unknown method {method!r}; the methods are {known}")
    return TABLEAUX[name]


def weighted_sum(weights: Sequence[float], stages: List[torch.Tensor]) -> Optional[torch.Tensor]:
    """sum_j weights[j] * stages[j] over the nonzero weights, in index order (None if all zero)."""
    total = None
    for w, k in zip(weights, stages):
        if w == 0:
            continue
        term = k * w
        total = term if total is None else total + term
    return total


def solution_step(tab: Tableau, func: VectorField, time: TimeFactory, t0: float, h: float,
                  y0: torch.Tensor, k1: Optional[torch.Tensor] = None,
                  ) -> Tuple[torch.Tensor, List[torch.Tensor]]:
    """One step y0 -> y1 from t0 with step h: (y1, the stages computed).

    Only the stages the solution needs are evaluated; `k1`, when given, is f(t0, y0) already
    known (the FSAL stage of the previous step). Stage times are t0 + c_i * h in float64 on the
    host, converted by `time`, so every caller gets the same times to the bit.
    """
    k = [func(time(t0), y0) if k1 is None else k1]
    for i in range(1, tab.solution_stages):
        increment = weighted_sum(tab.a[i], k)
        y_stage = y0 if increment is None else y0 + increment * h
        k.append(func(time(t0 + tab.c[i] * h), y_stage))
    increment = weighted_sum(tab.b, k)
    return y0 + increment * h, k
