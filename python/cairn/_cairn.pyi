# Type hints of the compiled module cairn._cairn (python/src/); docs/python.md describes it.
import enum
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str
ACTION_DTYPE: np.dtype
UNLIMITED: int

class ActionKind(enum.IntEnum):
    ADVANCE = 0
    STORE = 1
    RESTORE = 2
    REVERSE = 3
    FREE = 4
    END = 5

ADVANCE: ActionKind
STORE: ActionKind
RESTORE: ActionKind
REVERSE: ActionKind
FREE: ActionKind
END: ActionKind

class Action:
    def __init__(self, kind: int, slot: int = 0, step: int = 0, to: int = 0, level: int = 0) -> None: ...
    @staticmethod
    def advance(from_: int, to: int) -> "Action": ...
    @staticmethod
    def store(slot: int, step: int, level: int = 0) -> "Action": ...
    @staticmethod
    def restore(slot: int, step: int, level: int = 0) -> "Action": ...
    @staticmethod
    def reverse(step: int) -> "Action": ...
    @staticmethod
    def free(slot: int, level: int = 0) -> "Action": ...
    @staticmethod
    def end() -> "Action": ...
    @property
    def kind(self) -> ActionKind: ...
    @property
    def level(self) -> int: ...
    @property
    def slot(self) -> int: ...
    @property
    def step(self) -> int: ...
    @property
    def to(self) -> int: ...
    @property
    def from_(self) -> int: ...
    def to_json(self, level_names: Optional[List[str]] = None) -> str: ...
    def to_text(self) -> str: ...

class Schedule(Iterator[Action]):
    def next_actions(self, max_actions: int = 4096) -> np.ndarray: ...
    def actions(self) -> np.ndarray: ...
    def reset(self) -> None: ...
    def __iter__(self) -> "Schedule": ...
    def __next__(self) -> Action: ...
    @property
    def name(self) -> str: ...
    @property
    def slots_per_level(self) -> List[int]: ...

class Revolve(Schedule):
    def __init__(self, steps: int, slots: int, table_bytes: int = 1048576) -> None: ...
    steps: int
    slots: int
    repetitions: int
    forward_steps: int
    uses_lookup_table: bool
    @staticmethod
    def store_count(steps: int, slots: int) -> int: ...

class StoreAll(Schedule):
    def __init__(self, steps: int) -> None: ...
    steps: int
    slots: int

class Uniform(Schedule):
    def __init__(self, steps: int, interval: int) -> None: ...
    steps: int
    interval: int
    slots: int
    forward_steps: int
    @staticmethod
    def slots_needed(steps: int, interval: int) -> int: ...
    @staticmethod
    def best_interval_for_slots(steps: int, slots: int) -> int: ...

class OnlineRevolve(Schedule):
    def __init__(self, slots: int) -> None: ...
    def start(self) -> Action: ...
    def advanced(self) -> np.ndarray: ...
    def finish(self) -> None: ...
    slots: int
    steps: int
    finished: bool
    max_advanced_actions: int
    checkpoint_steps: List[int]
    layout_valid: bool

class SimulatedOnlineRun(Schedule):
    def __init__(self, steps: int, slots: int) -> None: ...
    steps: int

def simulate_online(steps: int, slots: int) -> SimulatedOnlineRun: ...

class StorageLevel:
    def __init__(self, slots: int, write_cost: float = 0.0, read_cost: float = 0.0) -> None: ...
    slots: int
    write_cost: float
    read_cost: float

class MultilevelRevolve(Schedule):
    def __init__(self, steps: int,
                 levels: Sequence[Union[StorageLevel, int, Tuple[int, float, float]]],
                 forward_cost: float = 1.0, backward_cost: float = 0.0,
                 max_table_bytes: int = 1073741824) -> None: ...
    steps: int
    levels: List[StorageLevel]
    forward_cost: float
    backward_cost: float
    optimal_cost: float
    action_count: int
    table_bytes: int

class TwoLevelRevolve(Schedule):
    def __init__(self, steps: int,
                 ram: Union[StorageLevel, int, Tuple[int, float, float]],
                 disk: Union[StorageLevel, int, Tuple[int, float, float]],
                 forward_cost: float = 1.0, backward_cost: float = 0.0, sweeps: int = 1,
                 max_table_bytes: int = 1073741824) -> None: ...
    steps: int
    sweeps: int
    optimal_cost: float
    disk_checkpoints: int
    period: int
    longest_segment: int
    proven_optimal: bool
    table_bytes: int

class HeterogeneousRevolve(Schedule):
    def __init__(self, forward_costs: npt.ArrayLike, backward_costs: npt.ArrayLike,
                 state_bytes: npt.ArrayLike, budget_bytes: int, memory_unit: int = 0,
                 max_table_bytes: int = 1073741824, exhaustive_splits: bool = False) -> None: ...
    steps: int
    optimal_cost: float
    slots: int
    peak_bytes: int
    memory_unit: int
    table_bytes: int
    action_count: int
    bounded_search: bool

class LevelCosts:
    stores: int
    restores: int
    frees: int
    peak_slots: int

class ScheduleCosts:
    actions: int
    advances: int
    forward_steps: int
    max_advances_per_step: int
    reverses: int
    levels: List[LevelCosts]
    stores: int
    restores: int

class CheckResult:
    legal: bool
    first_illegal_index: int
    reason: str
    costs: ScheduleCosts
    def __bool__(self) -> bool: ...

def check(actions: Union[Schedule, np.ndarray, Iterable[Action]], steps: int,
          slots_per_level: Union[int, Sequence[int]], count_advances_per_step: bool = True,
          max_actions: Optional[int] = None) -> CheckResult: ...
def cost(costs: ScheduleCosts, forward_step: float = 1.0, backward_step: float = 0.0,
         write: Sequence[float] = ..., read: Sequence[float] = ...) -> float: ...
def beta(c: int, r: int) -> int: ...
def repetitions(steps: int, slots: int) -> int: ...
def forward_cost(steps: int, slots: int) -> int: ...
def info(steps: int, slots: int) -> Dict[str, Union[str, int, float]]: ...

class Driver:
    def __init__(self, schedule: Schedule, step: Callable[[int, np.ndarray], Optional[np.ndarray]],
                 adjoint_step: Callable[[int, np.ndarray, np.ndarray], Optional[np.ndarray]], *,
                 dtype: Optional[npt.DTypeLike] = None, measure_time: bool = False) -> None: ...
    def forward(self, x0: npt.ArrayLike) -> np.ndarray: ...
    def backward(self, lam_T: npt.ArrayLike) -> np.ndarray: ...
    def run(self, x0: npt.ArrayLike, terminal: Callable[[np.ndarray], npt.ArrayLike]) -> np.ndarray: ...
    def start(self, x0: npt.ArrayLike) -> None: ...
    def step(self) -> None: ...
    def finish(self, terminal: Callable[[np.ndarray], npt.ArrayLike]) -> np.ndarray: ...
    @property
    def state(self) -> Optional[np.ndarray]: ...
    @property
    def steps(self) -> int: ...
    @property
    def statistics(self) -> Dict[str, Union[int, float]]: ...
    @property
    def schedule(self) -> Schedule: ...

# The deep-network model (include/cairn/graph.hpp, python/src/graphs.cpp).
GRAPH_ACTION_DTYPE: np.dtype
HAS_MILP: bool

class GraphNode:
    def __init__(self, forward_cost: float = 1.0, backward_cost: float = 1.0,
                 output_bytes: int = 1, tape_bytes: int = 0, name: str = "", *,
                 compute_workspace_bytes: int = 0, record_workspace_bytes: int = 0,
                 backward_workspace_bytes: int = 0, tape_holds_output: bool = False) -> None: ...
    forward_cost: float
    backward_cost: float
    output_bytes: int
    tape_bytes: int
    name: str
    compute_workspace_bytes: int
    record_workspace_bytes: int
    backward_workspace_bytes: int
    tape_holds_output: bool

class Graph:
    def __init__(self) -> None: ...
    def add(self, node: GraphNode, inputs: Sequence[int] = ...) -> int: ...
    @staticmethod
    def chain(layers: Sequence[GraphNode]) -> "Graph": ...
    def size(self) -> int: ...
    def __len__(self) -> int: ...
    def node(self, v: int) -> GraphNode: ...
    def inputs(self, v: int) -> List[int]: ...
    def consumers(self, v: int) -> List[int]: ...
    def is_chain(self) -> bool: ...
    def validate(self) -> None: ...
    output_gradient_held: bool

class GraphActionKind(enum.IntEnum):
    COMPUTE = 0
    RECORD = 1
    FREE = 2
    BACKWARD = 3

class GraphAction:
    def __init__(self, kind: GraphActionKind, node: int) -> None: ...
    @property
    def kind(self) -> GraphActionKind: ...
    @property
    def node(self) -> int: ...

class GraphPlanCosts:
    legal: bool
    first_illegal_index: int
    reason: str
    forward_cost: float
    backward_cost: float
    cost: float
    peak_bytes: int
    peak_action_index: int
    computes: int
    records: int
    frees: int
    backwards: int
    def __bool__(self) -> bool: ...

class GraphPlan:
    @property
    def actions(self) -> List[GraphAction]: ...
    def action_array(self) -> np.ndarray: ...
    cost: float
    peak_bytes: int
    method: str
    optimal: bool
    lower_bound: float
    def __len__(self) -> int: ...

GraphActions = Union[np.ndarray, Iterable[GraphAction], Iterable[Tuple[int, int]]]

def exact_memory_unit(graph: Graph) -> int: ...
def check_plan(graph: Graph, actions: GraphActions) -> GraphPlanCosts: ...
def plan_store_all(graph: Graph) -> GraphPlan: ...
def plan_exhaustive(graph: Graph, budget_bytes: int, max_states: int = 20000000) -> GraphPlan: ...
def plan_chain(graph: Graph, budget_bytes: int, memory_unit: int = 0,
               max_table_bytes: int = 1073741824, exhaustive_splits: bool = False) -> GraphPlan: ...
def chain_min_budget(graph: Graph, memory_unit: int = 0,
                     max_table_bytes: int = 1073741824) -> int: ...
def plan_segments(graph: Graph, segments: int = 0) -> GraphPlan: ...
def plan_structure_aware(graph: Graph) -> GraphPlan: ...
def plan_milp(graph: Graph, budget_bytes: int, time_limit_seconds: float = 60.0, threads: int = 1,
              relative_gap: float = 0.0, warm_start: bool = True, log: bool = False) -> GraphPlan: ...
def milp_min_budget(graph: Graph, time_limit_seconds: float = 60.0, threads: int = 1) -> int: ...

# The T x L grid model (python/src/grids.cpp). Streams are three arrays: kind (uint8: 0
# compute, 1 free, 2 reverse), layer (int32), step (int64).
class GridLayer:
    forward_cost: float
    backward_cost: float
    state_bytes: int
    tape_bytes: int
    def __init__(self, forward_cost: float = ..., backward_cost: float = ...,
                 state_bytes: int = ..., tape_bytes: int = ...) -> None: ...

class GridShape:
    def __init__(self, steps: int, layers: List[GridLayer]) -> None: ...
    @staticmethod
    def uniform(steps: int, layers: int) -> "GridShape": ...
    steps: int
    depth: int
    cells: int
    column_bytes: int
    layers: List[GridLayer]
    def layer(self, l: int) -> GridLayer: ...

class GridActionKind:
    compute: "GridActionKind"
    free: "GridActionKind"
    reverse: "GridActionKind"
    value: int

class GridAction:
    kind: GridActionKind
    layer: int
    step: int
    def __init__(self, kind: GridActionKind, layer: int, step: int) -> None: ...

class GridCosts:
    legal: bool
    first_illegal_index: int
    reason: str
    computes: int
    frees: int
    reverses: int
    recomputes: int
    max_computes_per_cell: int
    forward_cost: float
    reverse_cost: float
    cost: float
    peak_state_bytes: int
    peak_state_cells: int
    peak_adjoint_bytes: int
    peak_bytes: int

class BlockedCosts:
    block_steps: int
    block_layers: int
    computes: int
    recomputes: int
    max_computes_per_cell: int
    checkpoint_cells: int
    checkpoint_bytes: int
    forward_cost: float
    peak_state_bytes: int

class GridNesting:
    time_outer: "GridNesting"
    depth_outer: "GridNesting"
    value: int

class NestedCosts:
    nesting: GridNesting
    outer_slots: int
    inner_slots: int
    computes: int
    recomputes: int
    max_computes_per_cell: int
    forward_cost: float
    peak_state_bytes: int

_GridStream = Tuple[np.ndarray, np.ndarray, np.ndarray]

def check_grid(shape: GridShape, kind: npt.ArrayLike, layer: npt.ArrayLike,
               step: npt.ArrayLike) -> GridCosts: ...
def grid_store_all(shape: GridShape) -> _GridStream: ...
def grid_blocked(shape: GridShape, block_steps: int, block_layers: int) -> _GridStream: ...
def blocked_costs(shape: GridShape, block_steps: int, block_layers: int) -> BlockedCosts: ...
def optimal_block_sizes(shape: GridShape, budget_state_bytes: int) -> BlockedCosts: ...
def grid_nested(shape: GridShape, nesting: GridNesting, outer_slots: int,
                inner_slots: int) -> _GridStream: ...
def nested_costs(shape: GridShape, nesting: GridNesting, outer_slots: int,
                 inner_slots: int) -> NestedCosts: ...
def optimal_nested_slots(shape: GridShape, nesting: GridNesting,
                         budget_state_bytes: int) -> NestedCosts: ...
