"""One gradient of a neural ODE in a fresh process; prints its peak resident memory as JSON.

usage: odeint_memory_probe.py STEPS {cairn C | autograd}   (euler, float64, a 2-16-2 tanh MLP on
a batch of 64 states)
"""
import json
import resource
import sys
import time

import torch

import cairn.torch as ct


def main() -> None:
    steps, mode = int(sys.argv[1]), sys.argv[2]
    torch.manual_seed(0)
    torch.set_num_threads(1)
    net = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(),
                              torch.nn.Linear(16, 2)).double()

    def func(t, y):
        return net(y)

    y0 = torch.randn(64, 2, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    params = tuple(net.parameters())
    # A first small solve, so that the lazily loaded parts of torch are in both baselines.
    ct.odeint(func, y0, t, method="euler", steps_per_interval=10, adjoint_params=params,
              checkpoints=2)[-1].sum().backward()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    if mode == "autograd":
        ys = ct.solve_taped(func, y0, t, method="euler", steps_per_interval=steps)
    else:
        ys = ct.odeint(func, y0, t, method="euler", steps_per_interval=steps,
                       checkpoints=int(sys.argv[3]), adjoint_params=params)
    ys[-1].square().sum().backward()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"steps": steps, "mode": mode, "peak_kib": peak, "baseline_kib": before,
                      "seconds": seconds}))


if __name__ == "__main__":
    main()
