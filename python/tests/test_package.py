"""The package itself: what it exports, and that it does not need torch."""
import subprocess
import sys

import cairn


def test_import_cairn_does_not_import_torch():
    code = "import sys, cairn; assert 'torch' not in sys.modules, 'cairn imported torch'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_exports_and_version():
    assert cairn.__version__ == "0.1.0"
    for name in cairn.__all__:
        assert hasattr(cairn, name), name
    assert cairn._cairn.__name__ == "cairn._cairn"
