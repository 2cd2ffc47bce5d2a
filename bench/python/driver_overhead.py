#!/usr/bin/python3
"""Per-action overhead of cairn.Driver over Python callbacks, against two baselines measured in
the same run (docs/benchmarks.md, "Python: the NumPy driver's overhead per action"):

  floor    the same no-op callbacks called directly from a Python loop, as often as the driver
           calls them (t + 1 steps, T adjoint steps): what any driver must pay at least;
  python   a pure-Python driver loop over the same schedule's actions, with the stores and
           restores as NumPy copies into preallocated slots (pyrevolve's design: Python-level
           dispatch per action).

Overhead per action = (driver time - floor time) / actions. Run from the build tree:

    PYTHONPATH=build/python bench/python/driver_overhead.py            # T = 10^5, c = 50
    PYTHONPATH=build/python bench/python/driver_overhead.py --quick    # a smoke run
"""
import argparse
import time
from typing import Callable, List

import numpy as np

import cairn


def step(i: int, x: np.ndarray) -> None:
    pass


def adjoint_step(i: int, x: np.ndarray, lam: np.ndarray) -> None:
    pass


def best_of(repeat: int, run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def floor_loop(step_calls: int, adjoint_calls: int, x: np.ndarray, lam: np.ndarray) -> None:
    for i in range(step_calls):
        step(i, x)
    for i in range(adjoint_calls):
        adjoint_step(i, x, lam)


def python_driver(schedule: cairn.Schedule, x0: np.ndarray, lam_t: np.ndarray,
                  slots: List[np.ndarray]) -> np.ndarray:
    """A driver written in Python: one dispatch per action, NumPy copies for the checkpoints."""
    schedule.reset()
    x = x0.copy()
    lam = None
    for a in schedule:
        kind = a.kind
        if kind == cairn.ADVANCE:
            for i in range(a.from_, a.to):
                step(i, x)
        elif kind == cairn.STORE:
            np.copyto(slots[a.slot], x)
        elif kind == cairn.RESTORE:
            np.copyto(x, slots[a.slot])
        elif kind == cairn.REVERSE:
            if lam is None:  # the first reverse: one more step gives x_T, then lambda_T
                final = x.copy()
                step(a.step, final)
                lam = lam_t.copy()
            adjoint_step(a.step, x, lam)
        elif kind == cairn.END:
            break
    return lam


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--slots", type=int, default=50)
    parser.add_argument("--sizes", type=str, default="1,1000", help="state lengths (float64)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one repetition")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.slots, args.repeat = 2000, 10, 1

    steps, slots = args.steps, args.slots
    schedule = cairn.Revolve(steps, slots)
    actions = len(schedule.actions())
    t = cairn.forward_cost(steps, slots)
    print(f"Revolve(T = {steps}, c = {slots}): {actions} actions, t = {t} forward steps; "
          f"the driver makes {t + 1} step and {steps} adjoint calls; best of {args.repeat}")
    print(f"{'float64s':>10} {'floor s':>9} {'cairn s':>9} {'python s':>9} "
          f"{'cairn us/act':>13} {'python us/act':>14} {'python/cairn':>13}")
    for n in (int(s) for s in args.sizes.split(",")):
        x0 = np.zeros(n)
        lam_t = np.zeros(n)
        driver = cairn.Driver(schedule, step, adjoint_step)
        lam0 = driver.run(x0, lambda x_t: lam_t)
        stats = driver.statistics
        assert stats["step_calls"] == t + 1 and stats["adjoint_calls"] == steps, stats
        assert stats["actions"] == actions and lam0.shape == (n,)
        cairn_s = best_of(args.repeat, lambda: driver.run(x0, lambda x_t: lam_t))

        x, lam = x0.copy(), lam_t.copy()
        floor_s = best_of(args.repeat, lambda: floor_loop(t + 1, steps, x, lam))

        buffers = [np.empty_like(x0) for _ in range(slots)]
        python_s = best_of(args.repeat, lambda: python_driver(schedule, x0, lam_t, buffers))

        cairn_us = (cairn_s - floor_s) / actions * 1e6
        python_us = (python_s - floor_s) / actions * 1e6
        print(f"{n:>10} {floor_s:>9.4f} {cairn_s:>9.4f} {python_s:>9.4f} "
              f"{cairn_us:>13.3f} {python_us:>14.3f} {python_s / cairn_s:>12.2f}x")
    print("us/act: (driver time - floor time) / actions; python/cairn: ratio of the total times")


if __name__ == "__main__":
    main()
