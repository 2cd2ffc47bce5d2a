"""The keep-everything baseline of an adaptive solve, spoken in the online protocol."""
import numpy as np

import cairn

from ._solve import END, RESTORE, REVERSE, STORE


class OnlineStoreAll:
    """Stores x_0 .. x_T-1 as the run makes them (slot i holds x_i), then reverses from the top:
    restore x_i, reverse step i, for i = T-1 .. 0. The online counterpart of cairn.StoreAll,
    with no recomputation at all."""

    name = "store-all"

    def __init__(self):
        self._steps = 0
        self._reverse = None

    def start(self):
        self._steps = 0
        self._reverse = None
        return cairn.Action.store(0, 0)

    def advanced(self) -> np.ndarray:
        self._steps += 1
        batch = np.zeros(1, dtype=cairn.ACTION_DTYPE)
        batch[0] = (STORE, 0, self._steps, self._steps, 0)
        return batch

    def finish(self) -> None:
        steps = self._steps
        # The last store (of x_T) is not needed, but harmless; the reverse stream:
        stream = np.zeros(2 * steps + 1, dtype=cairn.ACTION_DTYPE)
        top_down = np.arange(steps - 1, -1, -1)
        stream["kind"][0:-1:2] = RESTORE
        stream["slot"][0:-1:2] = top_down
        stream["step"][0:-1:2] = top_down
        stream["kind"][1::2] = REVERSE
        stream["step"][1::2] = top_down
        stream["kind"][-1] = END
        self._reverse = stream

    def next_actions(self, capacity: int) -> np.ndarray:
        batch, self._reverse = self._reverse[:capacity], self._reverse[capacity:]
        return batch
