"""The device benchmarks' CPU paths: bench/python/torchdiffeq_compare.py skips cleanly (exit 77,
one line saying why) without torchdiffeq or without a CUDA device, and its --self-test (plain
autograd standing in for torchdiffeq, tiny sizes) runs the comparison end to end on the CPU."""
import importlib.util
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch", reason="PyTorch is not installed (Debian: python3-torch)")
import torch  # noqa: E402

SOURCE = os.environ.get("CAIRN_SOURCE_DIR",
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCRIPT = os.path.join(SOURCE, "bench", "python", "torchdiffeq_compare.py")


def run(*args):
    done = subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True,
                          timeout=120)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.skipif(importlib.util.find_spec("torchdiffeq") is not None,
                    reason="torchdiffeq is installed here")
def test_compare_skips_without_torchdiffeq():
    rc, out = run("--device", "cpu", "--quick")
    assert rc == 77, out
    assert out.strip() == ("torchdiffeq_compare: skipped: torchdiffeq is not installed "
                           "(pip install torchdiffeq)")


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_compare_skips_without_cuda():
    rc, out = run("--quick")
    assert rc == 77, out
    assert out.startswith("torchdiffeq_compare: skipped: no CUDA device"), out
    assert len(out.strip().splitlines()) == 1


def test_compare_self_test():
    rc, out = run("--self-test")
    assert rc == 0, out
    for name in ("cairn C=3", "cairn all", "torchdiffeq odeint", "torchdiffeq adjoint"):
        assert out.count(name) == 2, out  # one row per task
    assert "spiral:" in out and "large:" in out
    assert out.count("max |cairn - torchdiffeq| / max |y| = 0.00e+00") == 2, out
