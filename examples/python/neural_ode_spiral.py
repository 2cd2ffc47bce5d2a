#!/usr/bin/python3
"""torchdiffeq's ode_demo (the spiral) trained through cairn.torch.odeint.

The true dynamics are dy/dt = (y^3) A, A = [[-0.1, 2.0], [-2.0, -0.1]], from y0 = (2, 0); 1000
points on [0, 25]. The model is f(y) = MLP(y^3) with one hidden tanh layer of 50, weights
N(0, 0.1^2) and zero biases; RMSprop (lr 1e-3) on batches of 20 random start points and 10
consecutive times; the test loss, mean |pred - true| over the whole trajectory, every 20
iterations. Each gradient goes through a fixed-step solve that keeps `--checkpoints` states
(Revolve) and is the exact gradient of that solve, so `--checkpoints all` trains identically.

usage: neural_ode_spiral.py [--iterations 2000] [--method rk4] [--substeps 2] [--checkpoints 4]
                            [--seed 0] [--png spiral.png] [--csv loss.csv] [--quiet]
Prints a line per test and a JSON summary at the end.
"""
import argparse
import json
import time

import torch

import cairn.torch as ct

POINTS, T_END, BATCH_TIME, BATCH_SIZE = 1000, 25.0, 10, 20


class Lambda(torch.nn.Module):
    """The true dynamics."""

    def __init__(self):
        super().__init__()
        self.register_buffer("A", torch.tensor([[-0.1, 2.0], [-2.0, -0.1]], dtype=torch.float64))

    def forward(self, t, y):
        return (y ** 3) @ self.A


class ODEFunc(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(2, 50), torch.nn.Tanh(),
                                       torch.nn.Linear(50, 2)).double()
        for m in self.net.modules():
            if isinstance(m, torch.nn.Linear):
                torch.nn.init.normal_(m.weight, mean=0, std=0.1)
                torch.nn.init.constant_(m.bias, val=0)

    def forward(self, t, y):
        return self.net(y ** 3)


def parse_checkpoints(text: str):
    return text if text == "all" else int(text)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--iterations", type=int, default=2000)
    p.add_argument("--method", default="rk4", choices=["euler", "midpoint", "rk4", "rk38",
                                                       "dopri5", "bosh3"])
    p.add_argument("--substeps", type=int, default=2, help="solver steps per output interval")
    p.add_argument("--checkpoints", type=parse_checkpoints, default=4,
                   help="states kept per gradient (an integer >= 1, or 'all')")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--png", help="write the loss curve and phase plane here (matplotlib)")
    p.add_argument("--csv", help="write iteration,train_loss,test_loss here")
    p.add_argument("--quiet", action="store_true", help="print only the JSON summary")
    a = p.parse_args()
    if a.iterations < 0:
        p.error(f"--iterations must be >= 0, got {a.iterations}")
    if a.substeps < 1:
        p.error(f"--substeps must be >= 1, got {a.substeps}")
    torch.manual_seed(a.seed)

    t = torch.linspace(0.0, T_END, POINTS, dtype=torch.float64)
    true_y0 = torch.tensor([[2.0, 0.0]], dtype=torch.float64)
    with torch.no_grad():
        true_y = ct.odeint(Lambda(), true_y0, t, method="dopri5", rtol=1e-10, atol=1e-12)

    func = ODEFunc()
    optimizer = torch.optim.RMSprop(func.parameters(), lr=1e-3)
    solver = dict(method=a.method, steps_per_interval=a.substeps)

    def test_loss() -> float:
        with torch.no_grad():
            return float(torch.mean(torch.abs(ct.odeint(func, true_y0, t, **solver) - true_y)))

    rows, losses = [], []
    start = time.perf_counter()
    initial = test_loss()
    rows.append((0, float("nan"), initial))
    if not a.quiet:
        print(f"iteration {0:5d}   test loss {initial:.6f}")
    train = float("nan")
    for iteration in range(1, a.iterations + 1):
        optimizer.zero_grad()
        s = torch.randperm(POINTS - BATCH_TIME)[:BATCH_SIZE]
        batch_y0 = true_y[s]  # (M, 1, 2)
        batch_t = t[:BATCH_TIME]
        batch_y = torch.stack([true_y[s + i] for i in range(BATCH_TIME)], dim=0)
        pred_y = ct.odeint(func, batch_y0, batch_t, checkpoints=a.checkpoints, **solver)
        loss = torch.mean(torch.abs(pred_y - batch_y))
        loss.backward()
        optimizer.step()
        train = float(loss)
        losses.append(train)
        if iteration % 20 == 0:
            test = test_loss()
            rows.append((iteration, train, test))
            if not a.quiet:
                print(f"iteration {iteration:5d}   train loss {train:.6f}   test loss {test:.6f}")
    seconds = time.perf_counter() - start

    if a.csv:
        with open(a.csv, "w") as f:
            f.write("iteration,train_loss,test_loss\n")
            for it, tr, te in rows:
                f.write(f"{it},{'' if tr != tr else repr(tr)},{te!r}\n")
    if a.png:
        plot(a.png, rows, t, true_y, func, true_y0, solver)
    print(json.dumps({"iterations": a.iterations, "method": a.method, "substeps": a.substeps,
                      "checkpoints": a.checkpoints, "initial_test_loss": initial,
                      "final_test_loss": rows[-1][2], "final_train_loss": train,
                      "seconds": seconds,
                      "seconds_per_iteration": seconds / max(1, a.iterations)}))


def plot(path, rows, t, true_y, func, true_y0, solver) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with torch.no_grad():
        pred = ct.odeint(func, true_y0, t, **solver)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    iterations = [r[0] for r in rows]
    left.semilogy(iterations, [r[2] for r in rows], label="test loss")
    left.set_xlabel("iteration")
    left.set_ylabel("mean |pred - true|")
    left.legend()
    left.set_title("loss (cairn.torch.odeint)")
    right.plot(true_y[:, 0, 0], true_y[:, 0, 1], "g-", label="true")
    right.plot(pred[:, 0, 0], pred[:, 0, 1], "b--", label="learned")
    right.set_xlabel("x")
    right.set_ylabel("y")
    right.set_title("phase plane")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
