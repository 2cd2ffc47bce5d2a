"""examples/python/deep_chain.py and unet.py with small arguments: the planned training and plain
autograd's have the same losses to the last digit, and the bytes the executor holds stay within
the plan's prediction, itself within the budget."""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch", reason="PyTorch is not installed (Debian: python3-torch)")

SOURCE = os.environ.get("CAIRN_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def run(name, *args):
    script = os.path.join(SOURCE, "examples", "python", name)
    done = subprocess.run([sys.executable, script, *args], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [[], ["--layers", "12", "--fraction", "0"]])
def test_deep_chain(args):
    out, summary = run("deep_chain.py", "--steps", "2", *args)
    assert summary["cairn_losses"] == summary["plain_losses"]
    assert 0 < summary["measured_peak_bytes"] <= summary["predicted_peak_bytes"]
    assert summary["predicted_peak_bytes"] <= summary["budget_bytes"]
    assert "plain autograd" in out and "cairn" in out


def test_unet():
    out, summary = run("unet.py", "--steps", "2")
    assert summary["cairn_losses"] == summary["plain_losses"]
    assert 0 < summary["measured_peak_bytes"] <= summary["predicted_peak_bytes"]
    assert summary["predicted_peak_bytes"] <= summary["budget_bytes"]
    assert summary["predicted_peak_bytes"] < summary["store_all_peak_bytes"]


def test_bad_options_are_refused():
    script = os.path.join(SOURCE, "examples", "python", "unet.py")
    done = subprocess.run([sys.executable, script, "--size", "10"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "--size a multiple of 2^(levels - 1)" in done.stderr
