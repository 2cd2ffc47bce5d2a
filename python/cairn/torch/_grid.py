"""The step grid of a solve: where step i starts and how long it is, and which states are outputs.

Fixed-step solves split each output interval [t_k, t_k+1] into equal steps, so every output time
is a grid point (no interpolation; torchdiffeq instead lays one grid from t_0 and interpolates).
Adaptive solves record each accepted step as the forward pass makes it, so that recomputations
take the same steps to the bit.
"""
import bisect
import math
from array import array
from typing import Dict, List, Optional, Sequence, Tuple


class FixedGrid:
    """Output interval k gets counts[k] equal steps of (t_k+1 - t_k) / counts[k]."""

    def __init__(self, times: Sequence[float], counts: Sequence[int]):
        self.times = list(times)
        self.counts = list(counts)
        self.first: List[int] = []  # index of the first step of each interval
        total = 0
        for n in self.counts:
            self.first.append(total)
            total += n
        self.steps = total
        self.sizes = [(b - a) / n for a, b, n in zip(self.times, self.times[1:], self.counts)]
        # State index of each output time (x_0 is the first output).
        self.output_states = [0] + [f + n for f, n in zip(self.first, self.counts)]

    @staticmethod
    def from_options(times: Sequence[float], step_size: Optional[float],
                     steps_per_interval: Optional[int]) -> "FixedGrid":
        if step_size is not None:
            # A quotient a rounding error above an integer n means n steps, not n + 1.
            counts = [max(1, math.ceil(abs(b - a) / step_size * (1 - 1e-12)))
                      for a, b in zip(times, times[1:])]
        else:
            counts = [steps_per_interval or 1] * (len(times) - 1)
        return FixedGrid(times, counts)

    def step(self, i: int) -> Tuple[float, float]:
        """(start time, step size) of step i."""
        k = bisect.bisect_right(self.first, i) - 1
        h = self.sizes[k]
        return self.times[k] + (i - self.first[k]) * h, h


class RecordedGrid:
    """The accepted steps of an adaptive solve: 16 bytes per step."""

    def __init__(self):
        self.starts = array("d")
        self.sizes = array("d")
        self.output_states: List[int] = [0]

    @property
    def steps(self) -> int:
        return len(self.starts)

    def record(self, start: float, size: float) -> None:
        self.starts.append(start)
        self.sizes.append(size)

    def step(self, i: int) -> Tuple[float, float]:
        return self.starts[i], self.sizes[i]


def outputs_by_state(output_states: Sequence[int]) -> Dict[int, List[int]]:
    """state index -> the output indices that are that state."""
    table: Dict[int, List[int]] = {}
    for k, s in enumerate(output_states):
        table.setdefault(s, []).append(k)
    return table
