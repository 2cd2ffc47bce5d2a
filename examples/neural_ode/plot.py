#!/usr/bin/env python3
"""Draws examples/neural_ode's results: the loss curves and the phase plane (true vs learned).

usage: plot.py LOSS_CSV TRAJECTORY_CSV OUT_PNG
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main():
    loss_csv, trajectory_csv, out_png = sys.argv[1:4]
    train_it, train, test_it, test = [], [], [], []
    with open(loss_csv, newline="") as f:
        for row in csv.DictReader(f):
            it = int(row["iteration"])
            if row["train_loss"]:
                train_it.append(it)
                train.append(float(row["train_loss"]))
            if row["test_loss"]:
                test_it.append(it)
                test.append(float(row["test_loss"]))
    true_y1, true_y2, pred_y1, pred_y2 = [], [], [], []
    with open(trajectory_csv, newline="") as f:
        for row in csv.DictReader(f):
            true_y1.append(float(row["true_y1"]))
            true_y2.append(float(row["true_y2"]))
            pred_y1.append(float(row["pred_y1"]))
            pred_y2.append(float(row["pred_y2"]))

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    left.plot(train_it, train, lw=0.6, alpha=0.6, label="train loss (batch)")
    left.plot(test_it, test, "o-", ms=2, lw=1, label="test loss (whole trajectory)")
    left.set_yscale("log")
    left.set_xlabel("iteration")
    left.set_ylabel("mean |pred - true|")
    left.set_title("Loss")
    left.legend()
    right.plot(true_y1, true_y2, "g-", lw=1, label="true")
    right.plot(pred_y1, pred_y2, "b--", lw=1, label="learned")
    right.set_xlabel("y1")
    right.set_ylabel("y2")
    right.set_title("Phase plane")
    right.set_aspect("equal", adjustable="datalim")
    right.legend()
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)


if __name__ == "__main__":
    main()
