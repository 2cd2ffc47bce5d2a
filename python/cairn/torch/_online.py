"""The keep-everything baseline of an adaptive solve, spoken in the online protocol."""
import numpy as np

import cairn

ADVANCE, STORE, RESTORE, REVERSE, FREE, END = range(6)


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
        return _Store(0)

    def advanced(self) -> np.ndarray:
        self._steps += 1
        batch = np.zeros(1, dtype=cairn.ACTION_DTYPE)
        batch[0] = (STORE, 0, self._steps, self._steps, 0)
        return batch

    def finish(self) -> None:
        steps = self._steps
        # The last store (of x_T) is not needed, but harmless; the reverse stream:
        stream = np.zeros(2 * steps + 1, dtype=cairn.ACTION_DTYPE)
        for n, i in enumerate(range(steps - 1, -1, -1)):
            stream[2 * n] = (RESTORE, 0, i, i, 0)
            stream[2 * n + 1] = (REVERSE, 0, 0, i, 0)
        stream[-1] = (END, 0, 0, 0, 0)
        self._reverse = stream

    def next_actions(self, capacity: int) -> np.ndarray:
        batch, self._reverse = self._reverse[:capacity], self._reverse[capacity:]
        return batch


class _Store:
    """start()'s action: the store of x_0 in slot 0 (the fields of a cairn.Action)."""

    def __init__(self, slot: int):
        self.kind, self.level, self.slot, self.step, self.to = STORE, 0, slot, 0, 0
