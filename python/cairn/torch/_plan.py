"""A profiled, planned network: the Program, its profile and graph, the plan chosen for a budget,
and the executor that runs it; and the choice of planner (chain dynamic programming for chains,
the MILP where the package has CBC, otherwise the exhaustive search for graphs of up to 10 nodes
and the cheapest baseline that fits, with a warning, beyond)."""
import warnings
from typing import Callable, List, Optional, Sequence, Union

import torch

import cairn

from ._graph_exec import Executor, Program
from ._profile import LayerProfile, graph_of, profile_program

Planner = Union[str, Callable[["cairn.Graph", int], "cairn.GraphPlan"]]
PLANNERS = ("auto", "chain", "milp", "exhaustive", "structure_aware", "segments", "store_all")
# Graphs up to this many nodes are planned by plan_exhaustive where the MILP is missing (about a
# second at 12 nodes, the main branch's measurement).
_EXHAUSTIVE_NODES = 10
# Memory units of the chain planner's tables by default: the exact unit (the sizes' greatest
# common divisor) while the tables hold at most _EXACT_STATES states (segments x units: about
# 0.5 s, e.g. 192 layers and 1,458 units in bench/python/deep_chain.py), else sizes rounded up
# to budget / _UNITS bytes (the plan's peak still never exceeds the budget, but it may miss plans
# that fit it exactly), finer where that fails.
_UNITS = 1024
_EXACT_STATES = 3e7


class TrainingPlan:
    """What one network costs and how it is trained within a budget.

    graph: the cairn.Graph of the profile; plan: the cairn.GraphPlan run; budget_bytes: the
    budget planned for; least_bytes: for chains, the least budget any plan needs
    (cairn.chain_min_budget), else None; predicted_peak_bytes = plan.peak_bytes;
    measured_peak_bytes: the executor's count of the last step run with debug_memory=True (the
    tensors it held, plus the profiled scratch of the node running and the bookkeeping of the
    tapes held); runs_plain: the budget
    holds plain autograd's own peak, so steps run as plain autograd (the plan is store-all on
    the graph without output_gradient_held, which plain autograd frees at the last layer's
    backward); debug_memory=True still runs the executor on that stream and counts it so."""

    def __init__(self, program: Program, profile: Sequence[LayerProfile], plan: "cairn.GraphPlan",
                 graph: "cairn.Graph", budget_bytes: Optional[int], least_bytes: Optional[int],
                 preserve_rng_state: bool, runs_plain: bool = False) -> None:
        self.runs_plain = runs_plain
        self.program = program
        self.profile = list(profile)
        self.graph = graph
        self.plan = plan
        self.budget_bytes = budget_bytes
        self.least_bytes = least_bytes
        self.executor = Executor(program, plan.action_array().tolist(),
                                 preserve_rng_state=preserve_rng_state)
        self.debug_executor: Optional[Executor] = None

    @property
    def predicted_peak_bytes(self) -> int:
        return int(self.plan.peak_bytes)

    @property
    def measured_peak_bytes(self) -> Optional[int]:
        ex = self.debug_executor
        return None if ex is None or ex.last_run is None else ex.last_run.peak_bytes

    def executor_for(self, debug: bool) -> Executor:
        if not debug:
            return self.executor
        if self.debug_executor is None:
            scratch = [(int(self.graph.node(v).compute_workspace_bytes),
                        int(self.graph.node(v).record_workspace_bytes),
                        int(self.graph.node(v).backward_workspace_bytes))
                       for v in range(len(self.graph))]
            # What the graph's tapes carry beyond the saved tensors: autograd's bookkeeping.
            bookkeeping = [int(self.graph.node(v).tape_bytes) - max(0, int(p.tape_bytes))
                           for v, p in enumerate(self.profile)]
            self.debug_executor = Executor(self.program, self.executor.actions,
                                           preserve_rng_state=self.executor.preserve_rng_state,
                                           debug=True, workspaces=scratch,
                                           bookkeeping=bookkeeping,
                                           count_output_grad=not self.runs_plain)
        return self.debug_executor

    def __repr__(self) -> str:
        return (f"TrainingPlan(nodes={self.program.size}, method={self.plan.method!r}, "
                f"budget_bytes={self.budget_bytes}, predicted_peak_bytes="
                f"{self.predicted_peak_bytes}, cost={self.plan.cost:.3g} s)")


def chain_plan(graph: "cairn.Graph", budget: int, memory_unit: Optional[int]) -> "cairn.GraphPlan":
    """plan_chain with the exact memory unit where the tables are small, else a unit coarse
    enough for fast tables, refined while the rounding is what makes the budget too small or the
    tables too large."""
    if memory_unit is not None:
        return cairn.plan_chain(graph, budget, memory_unit=memory_unit)
    g = int(cairn.exact_memory_unit(graph))
    segments = len(graph) * (len(graph) + 1) // 2
    # The tables stop at store-all's peak, whatever the budget above it.
    spanned = min(budget, int(cairn.plan_store_all(graph).peak_bytes))
    exact = spanned // max(g, 1) * segments <= _EXACT_STATES
    unit = 0 if exact or budget // max(g, 1) <= _UNITS else budget // _UNITS
    while True:
        try:
            return cairn.plan_chain(graph, budget, memory_unit=unit)
        except (ValueError, MemoryError):
            if unit == 0:
                raise
            unit = unit // 4 if unit // 4 > g else 0


def chain_least_budget(graph: "cairn.Graph") -> int:
    return int(cairn.chain_min_budget(graph))


def _fallback(graph: "cairn.Graph", budget: Optional[int], who: str) -> "cairn.GraphPlan":
    candidates = [cairn.plan_structure_aware(graph), cairn.plan_store_all(graph)]
    candidates += [cairn.plan_segments(graph, k) for k in range(1, len(graph) + 1)]
    if budget is None:
        return candidates[1]
    fitting = [p for p in candidates if p.peak_bytes <= budget]
    if not fitting:
        least = min(p.peak_bytes for p in candidates)
        raise ValueError(f"{who}: memory={budget} bytes is below every plan this package can "
                         f"make for this graph without CBC (the least is {least} bytes, by "
                         f"{min(candidates, key=lambda p: p.peak_bytes).method}); give more "
                         "memory or build cairn with CBC for the optimal planner")
    best = min(fitting, key=lambda p: (p.cost, p.peak_bytes))
    warnings.warn(f"{who}: cairn was built without CBC, so this graph's plan is the cheapest "
                  f"baseline that fits ({best.method}), not the optimal one", stacklevel=4)
    return best


def choose_plan(graph: "cairn.Graph", budget: Optional[int], planner: Planner,
                memory_unit: Optional[int], who: str,
                least: Optional[int] = None) -> "cairn.GraphPlan":
    if callable(planner):
        return planner(graph, budget)
    if planner not in PLANNERS:
        raise ValueError(f"{who}: planner must be one of {', '.join(PLANNERS)} or a callable "
                         f"(graph, budget_bytes) -> cairn.GraphPlan, not {planner!r}")
    if planner == "store_all" or (budget is None and planner == "auto"):
        return cairn.plan_store_all(graph)
    if planner == "structure_aware":
        return cairn.plan_structure_aware(graph)
    if planner == "segments":
        return cairn.plan_segments(graph, 0)
    if budget is None:
        raise ValueError(f"{who}: planner={planner!r} needs memory= (a budget in bytes)")
    if planner == "chain" or (planner == "auto" and graph.is_chain()):
        if least is None:
            least = chain_least_budget(graph)
        if budget < least:
            raise ValueError(f"{who}: memory={budget} bytes is below the least budget of this "
                             f"chain and input, {least} bytes")
        return chain_plan(graph, budget, memory_unit)
    if planner == "exhaustive":
        return cairn.plan_exhaustive(graph, budget)
    if planner == "milp" or cairn.HAS_MILP:
        try:
            return cairn.plan_milp(graph, budget)
        except ValueError as e:
            raise ValueError(f"{who}: memory={budget} bytes is too small for this graph and "
                             f"input ({e})") from None
    if len(graph) <= _EXHAUSTIVE_NODES:
        try:
            return cairn.plan_exhaustive(graph, budget)
        except ValueError as e:
            raise ValueError(f"{who}: memory={budget} bytes is too small for this graph and "
                             f"input ({e})") from None
    return _fallback(graph, budget, who)


def make_plan(program: Program, x: torch.Tensor, *, memory: Optional[int],
              slots: Optional[int], planner: Planner, memory_unit: Optional[int],
              profile: Optional[Sequence[LayerProfile]], preserve_rng_state: bool,
              who: str) -> TrainingPlan:
    prof = list(profile) if profile is not None else profile_program(program, x)
    graph = graph_of(program, prof)
    graph.validate()
    least = chain_least_budget(graph) if graph.is_chain() else None
    budget = memory
    if slots is not None:
        if least is None:
            raise ValueError(f"{who}: slots= is defined for chains only; give memory= in bytes")
        budget = least + slots * max(p.output_bytes for p in prof)
    if planner in ("auto", "chain") and budget is not None:
        # Where the budget holds plain autograd's own peak, plain autograd is the plan: the
        # cheapest (store-all's cost), without the executor's overhead and without the output
        # gradient that its one autograd function keeps.
        graph.output_gradient_held = False
        everything = cairn.plan_store_all(graph)
        if everything.peak_bytes <= budget:
            return TrainingPlan(program, prof, everything, graph, budget, least,
                                preserve_rng_state, runs_plain=True)
        graph.output_gradient_held = True  # the executor's, below
    plan = choose_plan(graph, budget, planner, memory_unit, who, least)
    return TrainingPlan(program, prof, plan, graph, budget, least, preserve_rng_state)


def check_budget_args(memory: Optional[int], slots: Optional[int], who: str,
                      required: bool) -> None:
    if memory is not None and slots is not None:
        raise ValueError(f"{who}: give memory= (bytes) or slots= (checkpoints), not both")
    if required and memory is None and slots is None:
        raise ValueError(f"{who}: give exactly one of memory= (a budget in bytes) and slots= "
                         "(checkpoints of the largest layer output beyond the least budget)")
    for name, value in (("memory", memory), ("slots", slots)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 0):
            raise ValueError(f"{who}: {name} must be an integer >= 0, not {value!r}")


def parameters_of(functions: Sequence[Callable],
                  trainable_only: bool = True) -> List[torch.Tensor]:
    """The functions' parameters, each once (those that require grad unless trainable_only is
    False)."""
    seen: set = set()
    out: List[torch.Tensor] = []
    for fn in functions:
        if hasattr(fn, "parameters"):
            for p in fn.parameters():
                if (p.requires_grad or not trainable_only) and id(p) not in seen:
                    seen.add(id(p))
                    out.append(p)
    return out
