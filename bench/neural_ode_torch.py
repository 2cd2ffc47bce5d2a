#!/usr/bin/python3
"""The spiral task of torchdiffeq's examples/ode_demo.py in plain PyTorch, for comparison with
examples/neural_ode on the same machine.

torchdiffeq itself cannot be installed here (it is not in Debian and PyPI is unreachable), so this
is its demo loop with the solver written out: fixed-step RK4 (the 3/8 rule, as torchdiffeq's
fixed-grid 'rk4' method uses, or the classic rule) over the same grid, backpropagated by autograd
through every solver step (torchdiffeq's odeint without the adjoint). Same model (2 -> 50 -> 2,
tanh, on y^3, weights N(0, 0.1^2), biases 0), RMSprop (lr 1e-3), batches of 20 starts and 10
points, test loss every 20 iterations. Prints one JSON line.

usage: neural_ode_torch.py [--iterations N] [--substeps S] [--seed K] [--rule 38|classic]
       [--mode batches|full]
"""
import argparse
import json
import resource
import time

import torch


def rk4_step(f, y, h, rule):
    k1 = f(y)
    if rule == "38":
        k2 = f(y + h * k1 / 3)
        k3 = f(y + h * (k2 - k1 / 3))
        k4 = f(y + h * (k1 - k2 + k3))
        return y + h * (k1 + 3 * (k2 + k3) + k4) / 8
    k2 = f(y + h * k1 / 2)
    k3 = f(y + h * k2 / 2)
    k4 = f(y + h * k3)
    return y + h * (k1 + 2 * (k2 + k3) + k4) / 6


def solve(f, y0, intervals, dt, substeps, rule):
    """States at the interval ends, y0 first (differentiable through every step)."""
    out = [y0]
    y = y0
    h = dt / substeps
    for _ in range(intervals):
        for _ in range(substeps):
            y = rk4_step(f, y, h, rule)
        out.append(y)
    return torch.stack(out)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--iterations", type=int, default=2000)
    p.add_argument("--substeps", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rule", choices=["38", "classic"], default="classic")
    p.add_argument("--mode", choices=["batches", "full"], default="batches")
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_default_dtype(torch.float64)

    points, t_end = 1000, 25.0
    dt = t_end / (points - 1)
    A = torch.tensor([[-0.1, 2.0], [-2.0, -0.1]])
    with torch.no_grad():
        truth = solve(lambda y: (y**3) @ A, torch.tensor([[2.0, 0.0]]), points - 1, dt, 200,
                      "classic")  # (points, 1, 2)

    net = torch.nn.Sequential(torch.nn.Linear(2, 50), torch.nn.Tanh(), torch.nn.Linear(50, 2))
    for m in net.modules():
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.normal_(m.weight, mean=0, std=0.1)
            torch.nn.init.constant_(m.bias, val=0)

    def f(y):
        return net(y**3)

    optimizer = torch.optim.RMSprop(net.parameters(), lr=1e-3)

    def test_loss():
        with torch.no_grad():
            pred = solve(f, truth[0], points - 1, dt, a.substeps, a.rule)
            return torch.mean(torch.abs(pred - truth)).item()

    start = time.perf_counter()
    last = test_loss()
    for it in range(1, a.iterations + 1):
        optimizer.zero_grad()
        if a.mode == "full":
            pred = solve(f, truth[0], points - 1, dt, a.substeps, a.rule)
            loss = torch.mean(torch.abs(pred - truth))
        else:
            s = torch.randint(0, points - 10, (20,))
            y0 = truth[s, 0, :]                       # (20, 2)
            target = torch.stack([truth[s + k, 0, :] for k in range(10)])  # (10, 20, 2)
            pred = solve(f, y0, 9, dt, a.substeps, a.rule)
            loss = torch.mean(torch.abs(pred - target))
        loss.backward()
        optimizer.step()
        if it % 20 == 0 or it == a.iterations:
            last = test_loss()
    seconds = time.perf_counter() - start
    print(json.dumps({"implementation": "pytorch " + torch.__version__, "mode": a.mode,
                      "rule": a.rule, "substeps": a.substeps, "iterations": a.iterations,
                      "final_test_loss": last, "seconds": seconds,
                      "seconds_per_iteration": seconds / max(a.iterations, 1),
                      "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
