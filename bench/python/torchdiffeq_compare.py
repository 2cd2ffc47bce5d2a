#!/usr/bin/python3
"""cairn.torch.odeint against torchdiffeq's odeint (autograd through the solver) and
odeint_adjoint (the continuous adjoint): time per gradient, peak device memory, gradient error.

Two tasks, each a forward solve and a backward pass of sum(ys^2) over every output:
  spiral  the spiral demo's model (f(y) = MLP(y^3), 2 -> 50 -> 2, tanh), a batch of 20 start
          points and 10 output times (examples/python/neural_ode_spiral.py), output spacing 1/32;
  large   an MLP field f(y) = W2 tanh(W1 y + b1) + b2, dim 64, hidden 512, batch 1024, output
          times 0, 1/4, .., 1.
Both run fixed-step RK4 in its 3/8 form: torchdiffeq's 'rk4' is Kutta's 3/8 rule, cairn's 'rk38'.

Same steps in both solvers. The step h is a power of two and every output time a multiple of
it, so torchdiffeq's grid (arange(n) * step_size + t_0, from options=dict(step_size=h)) holds
every output time exactly: it interpolates nothing, and its odeint_adjoint steps back over the
same grid; cairn.torch.odeint(step_size=h) takes the same steps per output interval. The
forward values agree to rounding (the stage sums are ordered differently), not to the bit.

Columns: seconds per gradient (forward + backward, synchronized, best of --repeat after a
warm-up), peak device memory during it (torch.cuda.max_memory_allocated after
reset_peak_memory_stats; '-' on the CPU) in --dtype, and the relative gradient error
||g - g_ref|| / ||g_ref|| over y0 and every parameter, computed separately in float64 against
plain autograd through the same steps (cairn.torch.solve_taped).

Exit 77 (skipped) without torch, without a CUDA device unless --device cpu is given, or without
torchdiffeq. --self-test stands cairn.torch.solve_taped in for both torchdiffeq solvers,
on the CPU at tiny sizes, and fails unless every gradient error is below 1e-10: it tests this
script where torchdiffeq is not installed.

usage: bench/python/torchdiffeq_compare.py [--device cuda|cpu] [--dtype float32|float64]
           [--repeat 5] [--checkpoints 20] [--tasks spiral large] [--spiral-substeps 16]
           [--large-substeps 64] [--quick] [--self-test] [--json]
"""
import argparse
import json
import math
import sys
import time

SKIP = 77


def skip(message: str) -> None:
    print(f"torchdiffeq_compare: skipped: {message}", flush=True)
    sys.exit(SKIP)


def power_of_two(text: str) -> int:
    n = int(text)
    if n < 1 or n & (n - 1):
        raise argparse.ArgumentTypeError(f"must be a power of two >= 1, got {text}")
    return n


class SelfTestSolvers:
    """Stands in for torchdiffeq: plain autograd through cairn's own 3/8-rule steps."""

    @staticmethod
    def odeint(func, y0, t, method="rk4", options=None, **unused):
        import cairn.torch as ct

        assert method == "rk4"
        return ct.solve_taped(func, y0, t, method="rk38", step_size=options["step_size"])

    odeint_adjoint = odeint


def make_task(name: str, args, torch, dtype, device):
    """(func, y0, t, step size, steps) of one task, its weights from a fixed seed."""
    torch.manual_seed(0)
    if name == "spiral":
        batch, dim, hidden, outputs = (4, 2, 50, 4) if args.quick else (20, 2, 50, 10)
        spacing, substeps = 1.0 / 32, args.spiral_substeps
    else:
        batch, dim, hidden, outputs = (8, 8, 16, 3) if args.quick else (1024, 64, 512, 5)
        spacing, substeps = 1.0 / 4, args.large_substeps
    net = torch.nn.Sequential(torch.nn.Linear(dim, hidden), torch.nn.Tanh(),
                              torch.nn.Linear(hidden, dim))
    if name == "spiral":
        for m in net.modules():
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.normal_(m.weight, mean=0, std=0.1)
                torch.nn.init.constant_(m.bias, val=0)

    class Field(torch.nn.Module):
        def __init__(self, cube: bool):
            super().__init__()
            self.net = net
            self.cube = cube

        def forward(self, t, y):
            return self.net(y ** 3 if self.cube else y)

    func = Field(name == "spiral").to(dtype=dtype, device=device)
    scale = 2.0 if name == "spiral" else 1.0
    y0 = scale * torch.rand(batch, dim, dtype=dtype, device=device) - scale / 2
    # Output times k * spacing: exact in binary, as is the step spacing / substeps.
    t = torch.arange(outputs, dtype=dtype, device=device) * spacing
    return func, y0, t, spacing / substeps, (outputs - 1) * substeps


def solvers(args, torchdiffeq, ct):
    """name -> function(func, y0, t, h) returning the outputs."""
    def cairn_solver(checkpoints):
        return lambda f, y0, t, h: ct.odeint(f, y0, t, method="rk38", step_size=h,
                                             checkpoints=checkpoints)

    return {
        f"cairn C={args.checkpoints}": cairn_solver(args.checkpoints),
        "cairn all": cairn_solver("all"),
        "torchdiffeq odeint": lambda f, y0, t, h: torchdiffeq.odeint(
            f, y0, t, method="rk4", options=dict(step_size=h)),
        "torchdiffeq adjoint": lambda f, y0, t, h: torchdiffeq.odeint_adjoint(
            f, y0, t, method="rk4", options=dict(step_size=h)),
    }


def gradient(solve, func, y0, t, h, torch):
    y0 = y0.detach().requires_grad_(True)
    ys = solve(func, y0, t, h)
    return torch.autograd.grad(ys.square().sum(), [y0] + list(func.parameters()))


def relative_error(grads, reference, torch) -> float:
    g = torch.cat([x.reshape(-1) for x in grads])
    r = torch.cat([x.reshape(-1) for x in reference])
    return float(torch.linalg.norm(g - r) / torch.linalg.norm(r))


def measure(name, solve, task, args, torch, device) -> dict:
    func, y0, t, h = task

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    gradient(solve, func, y0, t, h, torch)  # warm-up (lazy initialisation, autotuning)
    sync()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    best = math.inf
    for _ in range(args.repeat):
        sync()
        start = time.perf_counter()
        gradient(solve, func, y0, t, h, torch)
        sync()
        best = min(best, time.perf_counter() - start)
    row = {"solver": name, "seconds": best}
    if device.type == "cuda":
        row["peak_device_mib"] = torch.cuda.max_memory_allocated() / 2**20
    return row


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda", choices=["cuda", "cpu"],
                   help="cuda (the default; skipped without a CUDA device) or cpu")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                   help="precision of the timed runs (the errors are always float64)")
    p.add_argument("--repeat", type=int, default=5, help="timed gradients (the best is shown)")
    p.add_argument("--checkpoints", type=int, default=20, help="cairn's C (also runs 'all')")
    p.add_argument("--tasks", nargs="+", default=["spiral", "large"], choices=["spiral", "large"])
    p.add_argument("--spiral-substeps", type=power_of_two, default=16,
                   help="steps per output interval, spiral task (power of two)")
    p.add_argument("--large-substeps", type=power_of_two, default=64,
                   help="steps per output interval, large task (power of two)")
    p.add_argument("--quick", action="store_true", help="tiny sizes, one repetition")
    p.add_argument("--self-test", action="store_true",
                   help="cairn.torch.solve_taped in place of torchdiffeq, CPU, tiny sizes")
    p.add_argument("--json", action="store_true", help="also print one JSON line per row")
    args = p.parse_args()
    if args.repeat < 1 or args.checkpoints < 1:
        p.error("--repeat and --checkpoints must be >= 1")
    if args.self_test:
        args.device, args.quick = "cpu", True
    if args.quick:
        args.repeat, args.spiral_substeps, args.large_substeps = 1, 4, 4
        args.checkpoints = min(args.checkpoints, 3)  # fewer than the steps: Revolve recomputes

    try:
        import torch
    except ImportError:
        skip("PyTorch is not installed")
    if args.device == "cuda" and not torch.cuda.is_available():
        skip("no CUDA device (torch.cuda.is_available() is false; --device cpu runs on the CPU)")
    if args.self_test:
        torchdiffeq = SelfTestSolvers
    else:
        try:
            import torchdiffeq
        except ImportError:
            skip("torchdiffeq is not installed (pip install torchdiffeq)")
    import cairn.torch as ct

    device = torch.device(args.device)
    dtype = getattr(torch, args.dtype)
    table = solvers(args, torchdiffeq, ct)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    source = ("cairn.torch.solve_taped standing in (self-test)" if args.self_test else
              f"torchdiffeq {getattr(torchdiffeq, '__version__', '?')}")
    print(f"cairn.torch.odeint against torchdiffeq, rk4 (3/8 rule), {args.dtype} on {where}, "
          f"torch {torch.__version__}, {source}; time = forward + backward, best of "
          f"{args.repeat}; error = relative gradient error against autograd, float64", flush=True)
    worst = 0.0
    for task_name in args.tasks:
        func, y0, t, h, steps = make_task(task_name, args, torch, dtype, device)
        func64, y064, t64, _, _ = make_task(task_name, args, torch, torch.float64, device)
        reference = gradient(lambda f, y, tt, hh: ct.solve_taped(f, y, tt, method="rk38",
                                                                 step_size=hh),
                             func64, y064, t64, h, torch)
        print(f"\n{task_name}: batch {tuple(y0.shape)}, {len(t)} outputs, {steps} steps of "
              f"h = {h:g}, {sum(q.numel() for q in func.parameters())} parameters", flush=True)
        with torch.no_grad():
            ours = ct.odeint(func64, y064, t64, method="rk38", step_size=h)
            theirs = torchdiffeq.odeint(func64, y064, t64, method="rk4", options=dict(step_size=h))
        print(f"forward, float64: max |cairn - torchdiffeq| / max |y| = "
              f"{float((ours - theirs).abs().max() / ours.abs().max()):.2e} (rounding: same steps)")
        print(f"{'solver':<22} {'s / iteration':>14} {'peak MiB':>10} {'gradient error':>15}")
        for name, solve in table.items():
            row = measure(name, solve, (func, y0, t, h), args, torch, device)
            row["error"] = relative_error(gradient(solve, func64, y064, t64, h, torch),
                                          reference, torch)
            row.update(task=task_name, steps=steps, dtype=args.dtype, device=args.device)
            if name.startswith("cairn") or args.self_test:
                worst = max(worst, row["error"])
            peak = f"{row['peak_device_mib']:.1f}" if "peak_device_mib" in row else "-"
            print(f"{name:<22} {row['seconds']:>14.4f} {peak:>10} {row['error']:>15.2e}",
                  flush=True)
            if args.json:
                print(json.dumps(row), flush=True)
    # cairn's gradient is autograd's up to summation order; so is every self-test row.
    if worst > 1e-10:
        print(f"FAILED: a gradient error of {worst:.2e} where 1e-10 was expected")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
