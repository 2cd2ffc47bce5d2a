#!/usr/bin/python3
"""cairn.torch.odeint reversed by Revolve and by keep_adjoint_data=True (cairn.MixedRevolve), at
the same memory budget of C states: time of forward + backward, evaluations of the field, memory,
and whether the gradients are bitwise equal.

Models (float32, batch 256, T steps on [0, 1], outputs at t = 0, 0.25, ..., 1, loss = the sum of
the squares of every output):
  mlp        2-64-2 tanh MLP, rk4: a kept step holds 4 x (1 + 32) + 1 = 133 states, more
             than any budget here, so odeint plans with Revolve ("plan: Revolve's")
  wide       64-16-64 tanh MLP, rk4: 4 x (1 + 1/4) + 1 = 6 states
  wide-euler the same field, euler: 1 + 1/4 + 1 = 2.25, so 3 states
The size w of a kept step is what odeint measures (taped steps of step 0); the mixed plan is
MixedRevolve(T, C, adjoint_units=w), Revolve's is Revolve(T, C).

Printed per configuration:
  evaluations  calls of the field, counted; "as planned" says whether they are S (F + 1), plus
               S or 2 S for measuring w on the mixed path, F the plan's forward_evaluations
               (Revolve: t(T, C) + T);
  time         best of --repeat runs of odeint + torch.autograd.grad (planning and measuring
               included), the two paths interleaved so that a change of the machine's load falls
               on both; ratio = mixed / Revolve;
  kept steps   steps reversed from their kept graph (reverse_stored);
  memory       planned: C states for Revolve (its slot buffer), the schedule's peak units x one
               state for the mixed path. plan: the mixed planner's table (16 bytes an entry,
               freed once its stream is read, before the first sweep) / that stream (32 bytes
               an action, held until the backward pass ends); "Revolve's" where w > C.
               measured (unless --no-memory): the peak of the bytes malloc has handed out and
               not got back during the solve and its gradient, beyond those live before it, in
               a separate process with bench/python/_live_bytes.c preloaded ("-" where it cannot
               be built). It includes what both paths hold besides the checkpoints (outputs,
               stages, the graph of the step being reversed) and, on the mixed path, the
               planner's table while it lives, the stream, and the measuring of w (two taped
               steps alive at once, or one where the first shows that a kept step cannot fit in
               C states);
  bitwise      torch.equal of every gradient (y0 and parameters) and of the outputs.
The script exits 1 if any gradient or output differs, or a count is not as planned.

usage: PYTHONPATH=build/python /usr/bin/python3 bench/torch_mixed_time.py [--quick]
       [--repeat 3] [--threads 1] [--no-memory]
"""
import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any, Dict, List, Tuple

HERE = os.path.dirname(os.path.abspath(__file__))
MARK = "TORCH_MIXED_MEMORY "
MODELS = {"mlp": (2, 64, "rk4"), "wide": (64, 16, "rk4"), "wide-euler": (64, 16, "euler")}
STAGES = {"rk4": 4, "euler": 1}
BATCH = 256


def make(model: str):
    """(func, y0, output times, parameters) of a model, the same values in every process."""
    import torch

    dim, hidden, _ = MODELS[model]
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.Tanh(),
                              torch.nn.Linear(hidden, dim))

    class Field(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net
            self.calls = 0

        def forward(self, t, y):
            self.calls += 1
            return self.net(y)

    y0 = (0.5 * torch.randn(BATCH, dim)).requires_grad_(True)
    return Field(), y0, torch.linspace(0.0, 1.0, 5), [y0] + list(net.parameters())


def solve(model: str, parts, T: int, C: int, mixed: bool) -> Tuple[Any, List[Any], dict]:
    import torch

    import cairn.torch as ct

    func, y0, t, inputs = parts
    stats: dict = {}
    ys = ct.odeint(func, y0, t, method=MODELS[model][2], steps_per_interval=T // 4,
                   checkpoints=C, keep_adjoint_data=mixed, stats=stats)
    grads = torch.autograd.grad(ys.square().sum(), inputs)
    return ys.detach(), list(grads), stats


def planned_evaluations(model: str, T: int, C: int, stats: dict, mixed: bool) -> int:
    import cairn

    S = STAGES[MODELS[model][2]]
    if mixed:
        F = cairn.MixedRevolve(T, C, adjoint_units=stats["adjoint_units"]).forward_evaluations
        return S * (F + 1) + stats["evaluations_measure"]
    return S * (cairn.forward_cost(T, C) + T + 1)


def memory_child(specs: List[Dict[str, Any]]) -> None:
    """Peak live bytes of each (model, T, C, mixed) in this process, one JSON line each."""
    import ctypes

    lib = ctypes.CDLL(None)
    lib.live_bytes_now.restype = ctypes.c_size_t
    lib.live_bytes_peak.restype = ctypes.c_size_t
    parts = {}
    for spec in specs:
        model = spec["model"]
        if model not in parts:
            parts[model] = make(model)
            solve(model, parts[model], 8, 2, True)  # loads the lazily loaded parts of torch
        lib.live_bytes_reset_peak()
        before = lib.live_bytes_now()
        result = solve(model, parts[model], spec["T"], spec["C"], spec["mixed"])
        peak = lib.live_bytes_peak() - before
        del result
        print(MARK + json.dumps(dict(spec, peak_bytes=peak)), flush=True)


def measured_memory(specs: List[Dict[str, Any]]) -> Dict[Tuple, int]:
    sys.path.insert(0, os.path.join(HERE, "python"))
    from _deep_bench import live_bytes_library

    shim = live_bytes_library()
    if shim is None:
        return {}
    env = dict(os.environ, LD_PRELOAD=" ".join(filter(None, [shim, os.environ.get("LD_PRELOAD")])))
    done = subprocess.run([sys.executable, os.path.abspath(__file__), "--memory-child",
                           json.dumps(specs)], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"the memory process failed (exit {done.returncode}):\n"
                           f"{done.stdout}{done.stderr}")
    out = {}
    for line in done.stdout.splitlines():
        if line.startswith(MARK):
            r = json.loads(line[len(MARK):])
            out[(r["model"], r["T"], r["C"], r["mixed"])] = r["peak_bytes"]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="T = 100, C = 10 and 20 only")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per path (best of)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--no-memory", action="store_true", help="skip the live-bytes process")
    parser.add_argument("--memory-child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    if args.memory_child:
        memory_child(json.loads(args.memory_child))
        return 0

    steps = [100] if args.quick else [200, 1000]
    budgets = [10, 20] if args.quick else [10, 20, 50]
    configs = [(m, T, C) for m in MODELS for T in steps for C in budgets]
    specs = [dict(model=m, T=T, C=C, mixed=mixed) for m, T, C in configs
             for mixed in (False, True)]
    memory = {} if args.no_memory else measured_memory(specs)

    print(f"cairn.torch.odeint, Revolve against keep_adjoint_data=True at equal budget; float32, "
          f"batch {BATCH}, {args.threads} thread(s), best of {args.repeat}; load average "
          f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores at the start")
    failures = 0
    current = None
    for model, T, C in configs:
        if model != current:
            current = model
            dim, hidden, method = MODELS[model]
            print(f"\n{model}: {dim}-{hidden}-{dim} tanh MLP, {method}; one state = "
                  f"{BATCH * dim * 4} bytes")
            print("|    T |  C |   w | evals Revolve | evals mixed | as planned | Revolve s | "
                  "mixed s | ratio | kept steps | planned KiB R / M | plan KiB | "
                  "measured KiB R / M | bitwise |")
            print("| ---: | -: | --: | ---: | ---: | :-: | ---: | ---: | ---: | ---: | ---: | "
                  "---: | ---: | :-: |")
        parts = make(model)
        func = parts[0]
        runs = {}
        for mixed in (False, True):
            func.calls = 0
            ys, grads, stats = solve(model, parts, T, C, mixed)
            runs[mixed] = dict(ys=ys, grads=grads, stats=stats, calls=func.calls,
                               planned=planned_evaluations(model, T, C, stats, mixed), best=None)
        for _ in range(args.repeat):
            for mixed in (False, True):
                start = time.perf_counter()
                solve(model, parts, T, C, mixed)
                seconds = time.perf_counter() - start
                best = runs[mixed]["best"]
                runs[mixed]["best"] = seconds if best is None else min(best, seconds)
        revolve, mixed_run = runs[False], runs[True]
        bitwise = torch.equal(revolve["ys"], mixed_run["ys"]) and all(
            torch.equal(a, b) for a, b in zip(revolve["grads"], mixed_run["grads"]))
        as_planned = all(r["calls"] == r["planned"] for r in runs.values())
        failures += (not bitwise) + (not as_planned)
        state_kib = BATCH * MODELS[model][0] * 4 / 1024
        stats = mixed_run["stats"]
        planned_kib = f"{C * state_kib:.0f} / {stats['peak_units'] * state_kib:.0f}"
        if stats["schedule"] == "mixed":
            plan = (f"{stats['plan_table_bytes'] / 1024:.0f} / "
                    f"{stats['plan_actions_bytes'] / 1024:.0f}")
        else:
            plan = "Revolve's"  # w > C: no step can be kept
        if memory:
            measured = " / ".join(f"{memory[(model, T, C, m)] / 1024:.0f}" for m in (False, True))
        else:
            measured = "-"
        print(f"| {T:4d} | {C:2d} | {stats['adjoint_units']:3d} | {revolve['calls']:6d} | "
              f"{mixed_run['calls']:6d} | {'yes' if as_planned else 'NO'} | "
              f"{revolve['best']:.3f} | {mixed_run['best']:.3f} | "
              f"{mixed_run['best'] / revolve['best']:.3f} | {stats['stored_reverses']:4d} | "
              f"{planned_kib} | {plan} | {measured} | "
              f"{'yes' if bitwise else 'NO'} |", flush=True)
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    if failures:
        print(f"FAILED: {failures} check(s) (bitwise gradients or planned counts) did not hold")
        return 1
    print("every gradient and output bitwise equal; every count as planned")
    return 0


if __name__ == "__main__":
    sys.exit(main())
