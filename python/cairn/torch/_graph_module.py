"""cairn.torch.GraphModule: a network with skip connections, declared as blocks and their inputs
(or read from torch.fx), trained by a plan within a memory budget."""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

from ._graph_exec import INPUT, Program, run_plan, tensor_parameters
from ._plan import Planner, TrainingPlan, check_budget_args, make_plan
from ._profile import LayerProfile

_WHO = "cairn.torch.GraphModule"
Block = Tuple[str, Callable, Sequence[str]]


class GraphModule(torch.nn.Module):
    """blocks: (name, module, inputs) in an order where every block reads earlier blocks only;
    inputs names earlier blocks, or "input" for the network input (an empty list reads the
    network input too); a block with several inputs receives them as positional arguments in
    the order given; the last block's output is the network's.

    memory: the budget in bytes (outputs, tapes and gradient buffers of the blocks; the input
    and the parameters not counted); None trains with every tape kept (store-all). slots=c, for
    chains only: the least budget plus c outputs of the largest block. planner: "auto" (the
    chain dynamic programming for chains, the MILP where cairn was built with CBC, otherwise the
    exhaustive search for graphs of up to 10 blocks and beyond that the cheapest of the
    structure-aware, store-all and segment plans that fits, with a warning), or
    one of "chain", "milp", "exhaustive", "structure_aware", "segments", "store_all", or a
    callable (graph, budget_bytes) -> cairn.GraphPlan. Plans are made on the first training
    call per input shape, dtype and device; `plan_for(x)` returns one.
    """

    INPUT_NAME = "input"

    def __init__(self, blocks: Sequence[Block], *, memory: Optional[int] = None,
                 slots: Optional[int] = None, planner: Planner = "auto",
                 memory_unit: Optional[int] = None, preserve_rng_state: bool = True,
                 debug_memory: bool = False) -> None:
        super().__init__()
        check_budget_args(memory, slots, _WHO, required=False)
        names: List[str] = []
        functions: List[Callable] = []
        sources: List[List[int]] = []
        index: Dict[str, int] = {}
        modules = torch.nn.ModuleDict()
        for i, block in enumerate(blocks):
            if not isinstance(block, (tuple, list)) or len(block) != 3:
                raise ValueError(f"{_WHO}: blocks[{i}] must be (name, module, inputs), not "
                                 f"{block!r}")
            name, fn, inputs = block
            if not isinstance(name, str) or not name or "." in name or name == self.INPUT_NAME:
                raise ValueError(f"{_WHO}: blocks[{i}]'s name must be a non-empty string without "
                                 f"'.', other than {self.INPUT_NAME!r}; got {name!r}")
            if name in index:
                raise ValueError(f"{_WHO}: two blocks are named {name!r}")
            if not callable(fn):
                raise ValueError(f"{_WHO}: block {name!r} is not callable")
            if isinstance(inputs, str):
                raise ValueError(f"{_WHO}: block {name!r}'s inputs must be a list of names, not "
                                 f"the string {inputs!r}")
            srcs: List[int] = []
            for u in inputs:
                if u == self.INPUT_NAME:
                    srcs.append(INPUT)
                elif u in index:
                    srcs.append(index[u])
                else:
                    raise ValueError(f"{_WHO}: block {name!r} reads {u!r}, which is not an "
                                     f"earlier block (nor {self.INPUT_NAME!r})")
            index[name] = i
            names.append(name)
            functions.append(fn)
            sources.append(srcs or [INPUT])
            if isinstance(fn, torch.nn.Module):
                modules[name] = fn
        if not names:
            raise ValueError(f"{_WHO}: give at least one block")
        self.blocks = modules
        self.program = Program(functions, sources, names)
        self._reaches_output(names)
        self.memory, self.slots, self.planner = memory, slots, planner
        self.memory_unit, self.preserve_rng_state = memory_unit, preserve_rng_state
        self.debug_memory = debug_memory
        self.profile: Optional[Sequence[LayerProfile]] = None
        self._plans: Dict[Tuple, TrainingPlan] = {}
        self._every_parameter: Optional[List[torch.Tensor]] = None

    def _reaches_output(self, names: List[str]) -> None:
        used = [False] * self.program.size
        used[-1] = True
        for v in range(self.program.size - 1, -1, -1):
            if used[v]:
                for u in self.program.unique[v]:
                    if u != INPUT:
                        used[u] = True
        unused = [names[v] for v in range(len(used)) if not used[v]]
        if unused:
            raise ValueError(f"{_WHO}: the output (block {names[-1]!r}) does not depend on "
                             f"block(s) {', '.join(map(repr, unused))}: every block must reach "
                             "the last one")

    def _params(self) -> List[torch.Tensor]:
        # Every parameter, collected once (walking the modules each step costs what a small
        # block does), filtered per call by requires_grad.
        if self._every_parameter is None:
            seen: set = set()
            self._every_parameter = []
            for p in list(self.parameters()) + [t for fn in self.program.functions
                                                for t in tensor_parameters(fn)]:
                if id(p) not in seen:
                    seen.add(id(p))
                    self._every_parameter.append(p)
        return [p for p in self._every_parameter if p.requires_grad]

    def plan_for(self, x: torch.Tensor) -> TrainingPlan:
        """The (cached) profile and plan for inputs like x."""
        key = (tuple(x.shape), x.dtype, x.device)
        plan = self._plans.get(key)
        if plan is None:
            plan = make_plan(self.program, x, memory=self.memory, slots=self.slots,
                             planner=self.planner, memory_unit=self.memory_unit,
                             profile=self.profile, preserve_rng_state=self.preserve_rng_state,
                             who=_WHO)
            self._plans[key] = plan
        return plan

    def forward(self, x: torch.Tensor) -> Any:
        if not isinstance(x, torch.Tensor):
            raise ValueError(f"{_WHO}: the input must be one tensor, not {type(x).__name__}")
        params = self._params()
        if not torch.is_grad_enabled() or not (x.requires_grad or params):
            return self.program.run_plain(x)
        plan = self.plan_for(x)
        if plan.runs_plain and not self.debug_memory:
            return self.program.run_plain(x)
        return run_plan(plan.executor_for(self.debug_memory), x, params)

    @classmethod
    def from_fx(cls, model: torch.nn.Module, example_input: Optional[torch.Tensor] = None,
                **options: Any) -> "GraphModule":
        """The GraphModule of a model torch.fx can trace (one tensor input, one tensor output).
        A node starts a new block when it reads several values, reads one that another node also
        reads, or is a call of a submodule with parameters; other nodes (activations, reshapes,
        arithmetic with constants) join the block of their input. example_input, if given, is
        profiled and planned at once. Other options are GraphModule's."""
        import torch.fx
        from ._fx import fx_blocks
        traced = torch.fx.symbolic_trace(model)
        blocks = fx_blocks(traced)
        module = cls(blocks, **options)
        module.model = model  # the parameters, under their own names
        if example_input is not None:
            module.plan_for(example_input)
        return module
