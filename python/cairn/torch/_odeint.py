"""cairn.torch.odeint: torchdiffeq's odeint with the exact gradient of the discrete solver, in
memory bounded by a number of checkpoints."""
import math
from typing import Any, Callable, Dict, Optional, Sequence, Tuple, Union

import torch

import cairn

from . import _adaptive
from ._grid import FixedGrid, RecordedGrid
from ._online import OnlineStoreAll
from ._saved_bytes import step_bytes, units_of
from ._solve import Chain, OdeintFunction, ReadAhead, Solve, make_levels
from ._tableaux import tableau

Checkpoints = Union[int, str]
_FIXED_OPTIONS = {"step_size", "steps_per_interval"}
_ADAPTIVE_OPTIONS = {"first_step", "safety", "ifactor", "dfactor", "max_num_steps"}


def _fail(message: str) -> None:
    raise ValueError(f"cairn.torch.odeint: {message}")


def _check_times(t: torch.Tensor) -> Sequence[float]:
    if not isinstance(t, torch.Tensor) or t.dim() != 1 or not t.is_floating_point():
        _fail("t must be a 1-D floating-point tensor of output times")
    if t.numel() < 1:
        _fail("t must hold at least one time")
    if t.requires_grad:
        _fail("gradients with respect to t are not computed; pass t.detach()")
    times = [float(v) for v in t.detach().cpu().tolist()]
    if not all(math.isfinite(v) for v in times):
        _fail(f"t must be finite, got {times[:8]}")
    steps = [b - a for a, b in zip(times, times[1:])]
    if steps and not (all(s > 0 for s in steps) or all(s < 0 for s in steps)):
        _fail("t must be strictly increasing or strictly decreasing")
    return times


def _check_checkpoints(checkpoints: Checkpoints, offload: int, offload_cost: float,
                       adaptive: bool) -> None:
    if checkpoints == "all":
        if offload:
            _fail("offload needs a number of device checkpoints, not checkpoints='all'")
        return
    if isinstance(checkpoints, bool) or not isinstance(checkpoints, int) or checkpoints < 1:
        _fail(f"checkpoints must be an integer >= 1 or 'all', got {checkpoints!r}")
    if isinstance(offload, bool) or not isinstance(offload, int) or offload < 0:
        _fail(f"offload must be an integer >= 0 (host checkpoints), got {offload!r}")
    if (isinstance(offload_cost, bool) or not isinstance(offload_cost, (int, float))
            or not math.isfinite(offload_cost) or offload_cost < 0):
        _fail(f"offload_cost must be a finite number >= 0 (forward steps per copy), got "
              f"{offload_cost!r}")
    if offload and adaptive:
        _fail("offload plans over two levels and needs the number of steps in advance; adaptive "
              "solves learn it as they go (use a fixed step_size, or offload=0)")


def _check_adjoint_data(keep_adjoint_data: bool, adjoint_units: Optional[int],
                        checkpoints: Checkpoints, offload: int, adaptive: bool) -> None:
    if not isinstance(keep_adjoint_data, bool):
        _fail(f"keep_adjoint_data must be True or False, got {keep_adjoint_data!r}")
    if adjoint_units is not None:
        if not keep_adjoint_data:
            _fail("adjoint_units is the size of a kept step and needs keep_adjoint_data=True")
        if isinstance(adjoint_units, bool) or not isinstance(adjoint_units, int) \
                or adjoint_units < 1:
            _fail(f"adjoint_units must be an integer >= 1 (states per kept step), got "
                  f"{adjoint_units!r}")
    if not keep_adjoint_data:
        return
    if adaptive:
        _fail("keep_adjoint_data plans with cairn.MixedRevolve, which needs the number of steps "
              "in advance; adaptive solves learn it as they go (use a fixed step_size or "
              "steps_per_interval, or keep_adjoint_data=False)")
    if offload:
        _fail("keep_adjoint_data plans over one storage level; offload adds a second (use "
              "offload=0, or keep_adjoint_data=False)")
    if checkpoints == "all":
        _fail("keep_adjoint_data needs a number of checkpoints; keeping every step's data is "
              "plain autograd (cairn.torch.solve_taped)")


def _merge_options(options: Optional[Dict[str, Any]], step_size, steps_per_interval):
    merged = dict(options or {})
    unknown = set(merged) - _FIXED_OPTIONS - _ADAPTIVE_OPTIONS
    if unknown:
        _fail(f"unknown options {sorted(unknown)}; the options are "
              f"{sorted(_FIXED_OPTIONS | _ADAPTIVE_OPTIONS)}")
    if step_size is not None:
        merged["step_size"] = step_size
    if steps_per_interval is not None:
        merged["steps_per_interval"] = steps_per_interval
    if "step_size" in merged and "steps_per_interval" in merged:
        _fail("give step_size or steps_per_interval, not both")
    if "step_size" in merged:
        h = merged["step_size"]
        if not isinstance(h, (int, float)) or not math.isfinite(h) or h <= 0:
            _fail(f"step_size must be a finite number > 0, got {h!r}")
    if "steps_per_interval" in merged:
        n = merged["steps_per_interval"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            _fail(f"steps_per_interval must be an integer >= 1, got {n!r}")
    return merged


class _Flat:
    """A tuple state as one flat tensor (torch.cat of the parts), for a func that takes and
    returns tuples."""

    def __init__(self, parts: Tuple[torch.Tensor, ...]):
        self.shapes = [p.shape for p in parts]
        self.sizes = [p.numel() for p in parts]

    def pack(self, parts) -> torch.Tensor:
        return torch.cat([p.reshape(-1) for p in parts])

    def unpack(self, flat: torch.Tensor, lead: Tuple[int, ...] = ()) -> Tuple[torch.Tensor, ...]:
        pieces = torch.split(flat, self.sizes, dim=-1)
        return tuple(p.reshape(lead + tuple(s)) for p, s in zip(pieces, self.shapes))


def odeint(func: Callable, y0: Union[torch.Tensor, Tuple[torch.Tensor, ...]], t: torch.Tensor, *,
           rtol: float = 1e-7, atol: float = 1e-9, method: Optional[str] = None,
           options: Optional[Dict[str, Any]] = None, step_size: Optional[float] = None,
           steps_per_interval: Optional[int] = None, checkpoints: Checkpoints = 20,
           offload: int = 0, offload_cost: float = 0.5,
           adjoint_params: Optional[Sequence[torch.Tensor]] = None,
           stats: Optional[dict] = None, keep_adjoint_data: bool = False,
           adjoint_units: Optional[int] = None
           ) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
    """Solves dy/dt = func(t, y) from y(t[0]) = y0 and returns y at every time of t (a tensor of
    shape (len(t), *y0.shape), or a tuple of such for a tuple y0).

    Gradients flow to y0 and to `adjoint_params` (default: func.parameters() when func is an
    nn.Module), exactly as autograd through the same solver steps would give them, while the
    forward pass keeps only `checkpoints` states (on y0's device) chosen by Revolve, or by
    OnlineRevolve for adaptive solves. See docs/python.md.

    method: 'dopri5' (default, adaptive), 'bosh3' (adaptive), or the fixed-step 'euler',
    'midpoint', 'rk4' (classic), 'rk38' (3/8 rule, torchdiffeq's 'rk4'); dopri5 and bosh3 run at
    fixed steps too when step_size or steps_per_interval is given. Each output interval gets
    ceil(length / step_size) equal steps (or steps_per_interval; one step by default).
    checkpoints: the number of states kept (>= 1), or 'all' (every state, the baseline).
    offload: extra checkpoints in host memory (pinned for CUDA tensors), fixed steps only;
    offload_cost: the price of one copy to or from the host, in forward steps, for the planner.
    stats: a dict to fill with what the solve did (steps, evaluations, stores, ...).
    keep_adjoint_data: fixed steps only; plan with cairn.MixedRevolve(T, checkpoints,
    adjoint_units=w), which may keep a step's autograd graph (w states' worth of memory) instead
    of restart states, and reverse that step without re-running it (with Revolve where
    w > checkpoints: no step can be kept). w is measured from the bytes a taped step 0 keeps (one
    or two extra taped steps in the forward pass), or given as adjoint_units. The outputs and the
    gradient are bitwise the ones without it.
    """
    if not callable(func):
        _fail("func must be callable as func(t, y)")
    tab = tableau(method or "dopri5")
    opts = _merge_options(options, step_size, steps_per_interval)
    fixed = not tab.adaptive or "step_size" in opts or "steps_per_interval" in opts
    _check_checkpoints(checkpoints, offload, offload_cost, adaptive=not fixed)
    _check_adjoint_data(keep_adjoint_data, adjoint_units, checkpoints, offload, adaptive=not fixed)
    times = _check_times(t)

    flat = None
    if isinstance(y0, (tuple, list)):
        if not y0 or not all(isinstance(p, torch.Tensor) for p in y0):
            _fail("a tuple y0 must hold tensors")
        flat = _Flat(tuple(y0))
        user_func = func

        def func(time, y):  # noqa: F811 (the tuple form of the user's func)
            return flat.pack(user_func(time, flat.unpack(y)))

        y0 = flat.pack(y0)
    if not isinstance(y0, torch.Tensor) or not y0.is_floating_point():
        _fail("y0 must be a floating-point tensor or a tuple of them")

    if adjoint_params is None:
        params = tuple(func.parameters()) if isinstance(func, torch.nn.Module) else ()
        if flat is not None and isinstance(user_func, torch.nn.Module):
            params = tuple(user_func.parameters())
    else:
        params = tuple(adjoint_params)
    params = tuple(p for p in params if p.requires_grad)
    differentiable = torch.is_grad_enabled() and (y0.requires_grad or bool(params))

    if fixed:
        grid = FixedGrid.from_options(times, opts.get("step_size"), opts.get("steps_per_interval"))
    else:
        grid = RecordedGrid()
        controller = _adaptive.ControllerOptions(
            rtol=rtol, atol=atol, **{k: v for k, v in opts.items() if k in _ADAPTIVE_OPTIONS})
    chain = Chain(func, tab, grid, t, y0.device)
    mixed = keep_adjoint_data and differentiable and len(times) > 1
    kept_bytes: Optional[int] = None
    if mixed and adjoint_units is None:
        # Step 0 taped from copies of y0: the bytes its graph keeps, in states.
        known = list(params)
        for module in (func, user_func if flat is not None else None):
            if isinstance(module, torch.nn.Module):
                known += list(module.parameters()) + list(module.buffers())
        kept_bytes = step_bytes(lambda x: chain.step(0, x), y0, known,
                                budget=checkpoints * y0.numel() * y0.element_size())
        adjoint_units = units_of(kept_bytes, y0)
    measure_evaluations = chain.evaluations
    # A kept step larger than the budget can never be kept: the mixed plan would be Revolve's
    # (the same counts), at the price of its table. Revolve plans it then.
    mixed_plan = mixed and adjoint_units <= checkpoints

    def run_forward(y_start: torch.Tensor, solve: Optional[Solve]) -> torch.Tensor:
        out = torch.empty((len(times),) + tuple(y_start.shape), dtype=y_start.dtype,
                          device=y_start.device)
        out[0].copy_(y_start)
        counts: Dict[str, Any] = {}
        if len(times) == 1:
            pass
        elif fixed and solve is None:
            for k, x in chain.outputs(y_start):
                out[k].copy_(x)
        elif fixed:
            schedule = _fixed_schedule(grid.steps, checkpoints, offload, offload_cost,
                                       adjoint_units if mixed_plan else None)
            if mixed:
                counts.update(keep_adjoint_data=True, adjoint_units=adjoint_units,
                              adjoint_bytes_per_step=kept_bytes,
                              evaluations_measure=measure_evaluations, plan_table_bytes=0,
                              plan_actions_bytes=0, planned_forward_evaluations=(
                                  cairn.forward_cost(grid.steps, checkpoints) + grid.steps))
            if mixed_plan:
                counts.update(plan_table_bytes=schedule.table_bytes,
                              planned_forward_evaluations=schedule.forward_evaluations)
                schedule = ReadAhead(schedule)  # the plan's table is freed here
                counts["plan_actions_bytes"] = schedule.bytes
            solve.forward_offline(y_start, schedule,
                                  make_levels(checkpoints, offload, y_start, mixed_plan), out)
            counts["schedule"] = schedule.name
        elif solve is None:
            counts = _adaptive.integrate(chain, y_start, times, controller, out,
                                         lambda i, x: None)
        else:
            online = OnlineStoreAll() if checkpoints == "all" else cairn.OnlineRevolve(checkpoints)

            def integrate(on_step):
                counts.update(_adaptive.integrate(chain, y_start, times, controller, out, on_step))
                return counts["final"]

            solve.forward_online(y_start, online, make_levels(checkpoints, 0, y_start), integrate)
            counts["schedule"] = online.name
        if stats is not None:
            stats.clear()
            stats.update(method=tab.name, steps=grid.steps, adaptive=not fixed,
                         checkpoints=checkpoints, offload=offload,
                         evaluations_forward=chain.evaluations,
                         stage_evaluations_per_step=tab.solution_stages)
            stats.update({k: v for k, v in counts.items() if k != "final"})
            if solve is not None and solve.checkpoints is not None:
                stats["checkpoint_bytes"] = solve.checkpoints.bytes
            if not fixed:
                stats["output_states"] = list(grid.output_states)
                stats["step_starts"] = torch.tensor(grid.starts, dtype=torch.float64)
                stats["step_sizes"] = torch.tensor(grid.sizes, dtype=torch.float64)
        return out

    if not differentiable or len(times) == 1:
        with torch.no_grad():
            solution = run_forward(y0.detach(), None)
        if len(times) == 1 and differentiable:
            solution = y0.unsqueeze(0).clone()  # the identity, differentiable
    else:
        solve = Solve(chain, params, stats, adjoint_units if mixed else 0)
        solution = OdeintFunction.apply(solve, lambda y: run_forward(y, solve), y0, *params)
    if flat is not None:
        return flat.unpack(solution, (len(times),))
    return solution


def _fixed_schedule(steps: int, checkpoints: Checkpoints, offload: int, offload_cost: float,
                    adjoint_units: Optional[int] = None):
    if adjoint_units is not None:
        return cairn.MixedRevolve(steps, checkpoints, adjoint_units=adjoint_units)
    if checkpoints == "all":
        return cairn.StoreAll(steps)
    if offload:
        levels = [cairn.StorageLevel(checkpoints, 0.0, 0.0),
                  cairn.StorageLevel(offload, offload_cost, offload_cost)]
        return cairn.MultilevelRevolve(steps, levels)
    return cairn.Revolve(steps, checkpoints)


def solve_taped(func: Callable, y0: torch.Tensor, t: torch.Tensor, *, method: str = "rk4",
                step_size: Optional[float] = None, steps_per_interval: Optional[int] = None,
                recorded: Optional[dict] = None) -> torch.Tensor:
    """Plain autograd through the same solver steps (the whole graph kept): the reference the
    tests and benchmarks compare with. An adaptive solve is replayed from the steps that
    odeint(..., stats=recorded) took (recorded['step_starts'], ['step_sizes'],
    ['output_states'])."""
    tab = tableau(method)
    times = _check_times(t)
    if recorded is not None:
        grid = RecordedGrid()
        for a, h in zip(recorded["step_starts"].tolist(), recorded["step_sizes"].tolist()):
            grid.record(a, h)
        grid.output_states = list(recorded["output_states"])
    else:
        grid = FixedGrid.from_options(times, step_size, steps_per_interval)
    chain = Chain(func, tab, grid, t, y0.device)
    return torch.stack([y0] + [x for _, x in chain.outputs(y0)])


__all__ = ["odeint", "solve_taped"]
