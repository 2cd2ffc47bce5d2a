#!/usr/bin/python3
"""Time per gradient and peak memory of cairn.torch.odeint against plain autograd through the same
solver steps (every step's graph kept), measured in the same run.

The problem is the spiral demo's model (f(y) = MLP(y^3), 2 -> 50 -> 2, tanh) on a batch of 20
states, classic RK4, T steps on [0, 1] with one output at the end. Each configuration runs in a
fresh process, so its peak resident memory is its own.

Predicted time ratio. Cairn runs t(T, C) + 1 steps without a graph (the first sweep, the step to
x_T, the recomputations), each costing f, and reverses each of the T steps once, re-running it
under autograd and calling torch.autograd.grad, each costing r. Plain autograd costs A, measured.
With f and r measured here on their own (over min(T, 2000) steps):
    predicted ratio = ((t + 1) f + T r) / A.
If A were T r (one taped step and its backward cost the same in one long graph as alone), this
is 1 + (t + 1) f / (T r) <= (T + t + 1) / T, the forward-work factor, which counts only steps.

usage: bench/python/odeint.py [--steps 1000 10000 100000] [--checkpoints 10 20 50]
                              [--dtype float64] [--device cpu] [--repeat 3]
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def measure(args) -> dict:
    """One configuration, in this process."""
    import torch

    import cairn
    import cairn.torch as ct

    torch.manual_seed(0)
    torch.set_num_threads(1)
    dtype = getattr(torch, args.dtype)
    device = torch.device(args.device)
    net = torch.nn.Sequential(torch.nn.Linear(2, 50), torch.nn.Tanh(),
                              torch.nn.Linear(50, 2)).to(dtype=dtype, device=device)

    class Field(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, t, y):
            return self.net(y ** 3)

    func = Field()
    y0 = (0.5 * torch.randn(20, 2, dtype=dtype, device=device)).requires_grad_(True)
    t = torch.tensor([0.0, 1.0], dtype=dtype, device=device)
    T = args.one_steps

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def gradient():
        if args.one_mode == "autograd":
            ys = ct.solve_taped(func, y0, t, method="rk4", steps_per_interval=T)
        else:
            ys = ct.odeint(func, y0, t, method="rk4", steps_per_interval=T,
                           checkpoints=args.one_checkpoints)
        torch.autograd.grad(ys[-1].square().sum(), [y0] + list(func.parameters()))

    # Warm-up (lazy initialisation), then the timed repetitions.
    ct.odeint(func, y0, t, method="rk4", steps_per_interval=4, checkpoints=2)[-1].sum().backward()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(args.repeat):
        sync()
        start = time.perf_counter()
        gradient()
        sync()
        times.append(time.perf_counter() - start)
    result = {"mode": args.one_mode, "steps": T, "checkpoints": args.one_checkpoints,
              "seconds": min(times), "peak_rss_mib": resource.getrusage(
                  resource.RUSAGE_SELF).ru_maxrss / 1024}
    if device.type == "cuda":
        result["peak_device_mib"] = torch.cuda.max_memory_allocated() / 2**20
    if args.one_mode == "autograd":
        n = min(T, 2000)
        grid = ct._grid.FixedGrid([0.0, 1.0], [T])
        chain = ct._solve.Chain(func, ct._tableaux.tableau("rk4"), grid, t, device)
        params = tuple(func.parameters())
        x = y0.detach()
        lam = torch.ones_like(x)

        def forward_steps():  # f: a step without a graph
            y = x
            with torch.no_grad():
                for i in range(n):
                    y = chain.step(i, y)

        def reverse_steps():  # r: what Cairn does at reverse(i)
            for i in range(n):
                xi = x.detach().requires_grad_(True)
                y1 = chain.step(i, xi)
                torch.autograd.grad(y1, (xi,) + params, lam)

        for key, work in (("step_seconds", forward_steps), ("reverse_seconds", reverse_steps)):
            best = float("inf")
            for _ in range(max(3, args.repeat)):  # the minimum of 3, as for the gradients
                sync()
                start = time.perf_counter()
                work()
                sync()
                best = min(best, time.perf_counter() - start)
            result[key] = best / n
    else:
        result["forward_steps"] = cairn.forward_cost(T, args.one_checkpoints)
    return result


def run_one(args, mode: str, steps: int, checkpoints: int, repeat: int) -> dict:
    command = [sys.executable, os.path.abspath(__file__), "--one-mode", mode, "--one-steps",
               str(steps), "--one-checkpoints", str(checkpoints), "--dtype", args.dtype,
               "--device", args.device, "--repeat", str(repeat)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, nargs="+", default=[1000, 10000, 100000])
    p.add_argument("--checkpoints", type=int, nargs="+", default=[10, 20, 50])
    p.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    p.add_argument("--device", default="cpu")
    p.add_argument("--repeat", type=int, default=3, help="timed gradients per configuration "
                   "(the minimum is reported); 1 from T = 100,000")
    p.add_argument("--json", action="store_true", help="also print one JSON line per row")
    p.add_argument("--one-mode", help=argparse.SUPPRESS)
    p.add_argument("--one-steps", type=int, help=argparse.SUPPRESS)
    p.add_argument("--one-checkpoints", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.one_mode:
        print(json.dumps(measure(args)))
        return

    print(f"cairn.torch.odeint against plain autograd, rk4, {args.dtype} on {args.device}, "
          "a 2-50-2 MLP on 20 states; f = one step without a graph, r = one taped step + "
          "autograd.grad, A/T = plain autograd per step")
    print(f"{'T':>7} {'C':>4} {'t(T,C)':>8} {'autograd s':>11} {'cairn s':>9} {'ratio':>7} "
          f"{'predicted':>9} {'(T+t)/T':>8} {'autograd MiB':>13} {'cairn MiB':>10}")
    for T in args.steps:
        repeat = args.repeat if T < 100000 else 1
        base = run_one(args, "autograd", T, 0, repeat)
        print(f"T = {T}: f = {base['step_seconds'] * 1e6:.1f} us, r = "
              f"{base['reverse_seconds'] * 1e6:.1f} us, A/T = {base['seconds'] / T * 1e6:.1f} us",
              flush=True)
        f, r = base["step_seconds"], base["reverse_seconds"]
        for C in args.checkpoints:
            row = run_one(args, "cairn", T, C, repeat)
            t = row["forward_steps"]
            predicted = ((t + 1) * f + T * r) / base["seconds"]
            memory = "peak_device_mib" if "peak_device_mib" in row else "peak_rss_mib"
            print(f"{T:>7} {C:>4} {t:>8} {base['seconds']:>11.3f} {row['seconds']:>9.3f} "
                  f"{row['seconds'] / base['seconds']:>7.2f} {predicted:>9.2f} "
                  f"{(T + t) / T:>8.2f} {base[memory]:>13.1f} {row[memory]:>10.1f}", flush=True)
            if args.json:
                print(json.dumps({"autograd": base, "cairn": row, "predicted_ratio": predicted}))


if __name__ == "__main__":
    main()
