"""Adaptive step-size control for the embedded pairs (dopri5, bosh3).

The usual controller (Hairer, Norsett & Wanner, Solving ODEs I, II.4): the error of a step is the
root mean square of err / (atol + rtol * max(|y0|, |y1|)); a step is accepted when it is <= 1, and
the next step is h * clamp(safety * error^(-1/order), dfactor, ifactor) (never smaller after an
accepted step). Steps are shortened to land exactly on every output time, so outputs need no
interpolation. Each accepted step is recorded (start, size) for the recomputations.
"""
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch

from ._grid import RecordedGrid
from ._tableaux import Tableau, weighted_sum, solution_step


@dataclass
class ControllerOptions:
    rtol: float = 1e-7
    atol: float = 1e-9
    first_step: Optional[float] = None
    safety: float = 0.9
    ifactor: float = 10.0
    dfactor: float = 0.2
    max_num_steps: int = 2**31 - 1


def _rms(x: torch.Tensor) -> float:
    return float(torch.sqrt(torch.mean(x * x)))


def _factor(error: float, opts: ControllerOptions, order: int, accepted: bool) -> float:
    if error != error:  # NaN: shrink as far as allowed
        return opts.dfactor
    if error == 0:
        return opts.ifactor
    factor = min(opts.ifactor, max(opts.safety / error ** (1.0 / order), opts.dfactor))
    return max(factor, 1.0) if accepted else min(factor, 1.0)


def initial_step(func: Callable, time: Callable, t0: float, y0: torch.Tensor, f0: torch.Tensor,
                 order: int, opts: ControllerOptions, direction: float) -> float:
    """Hairer's starting step: one extra evaluation of the vector field."""
    scale = opts.atol + y0.abs() * opts.rtol
    d0, d1 = _rms(y0 / scale), _rms(f0 / scale)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    f1 = func(time(t0 + direction * h0), y0 + f0 * (direction * h0))
    d2 = _rms((f1 - f0) / scale) / h0
    if max(d1, d2) <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / (order + 1))
    return min(100 * h0, h1)


def integrate(chain, y0: torch.Tensor, times: Sequence[float], opts: ControllerOptions,
              out: torch.Tensor, on_step: Callable[[int, torch.Tensor], None]) -> dict:
    """Integrates from times[0] through every output time, filling out[k] and chain.grid (a
    RecordedGrid); returns the controller's counts. Returns x_T in counts['final']."""
    tab: Tableau = chain.tab
    grid: RecordedGrid = chain.grid
    func, time = chain.func, chain.time
    direction = 1.0 if times[-1] > times[0] else -1.0
    t, x = times[0], y0
    k1 = func(time(t), x)
    if opts.first_step is not None:
        h = direction * abs(opts.first_step)
    else:
        h = direction * initial_step(func, time, t, x, k1, tab.order, opts, direction)
    span = abs(times[-1] - times[0])
    if abs(h) > span:
        h = direction * span
    accepted = rejected = 0
    for k in range(1, len(times)):
        target = times[k]
        while True:
            clipped = direction * (t + h - target) >= 0
            h_try = target - t if clipped else h
            if t + h_try == t:
                raise RuntimeError(f"cairn.torch.odeint: the step size underflowed at t = {t!r} "
                                   f"(h = {h_try!r}); the problem may be stiff or the tolerances "
                                   "too tight for an explicit method")
            if accepted + rejected >= opts.max_num_steps:
                raise RuntimeError(f"cairn.torch.odeint: max_num_steps = {opts.max_num_steps} "
                                   f"steps were tried before t = {target!r} (reached t = {t!r})")
            y1, stages = solution_step(tab, func, time, t, h_try, x, k1)
            # The FSAL stage f(t + h, y1): the error estimate's last stage and the next k1.
            k_last = func(time(t + tab.c[-1] * h_try), y1)
            stages.append(k_last)
            error_estimate = weighted_sum(tab.error, stages) * h_try
            scale = opts.atol + torch.max(x.abs(), y1.abs()) * opts.rtol
            error = _rms(error_estimate / scale)
            ok = error <= 1.0
            h_next = h_try * _factor(error, opts, tab.order, ok)
            if not ok:
                rejected += 1
                h = h_next
                continue
            accepted += 1
            grid.record(t, h_try)
            t, x, k1 = t + h_try, y1, k_last
            on_step(grid.steps, x)
            if clipped:
                # Keep the step the controller wanted before the output time cut it short.
                h = direction * max(abs(h), abs(h_next))
                grid.output_states.append(grid.steps)
                out[k].copy_(x)
                break
            h = h_next
    return {"accepted": accepted, "rejected": rejected, "final": x}
