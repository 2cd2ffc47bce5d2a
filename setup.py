"""Builds the Python package cairn with the project's CMake (docs/python.md).

    python3 -m venv --system-site-packages .venv
    .venv/bin/pip install --no-build-isolation .

build_ext configures CMake with the Python package on and everything else off, builds the
target _cairn (libcairn linked statically into it) and puts the module next to the pure-Python
files. The version is the CMake project's. setuptools' own build folders go to build-python/
(not build/, which is the CMake build of the developer loop).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, find_packages, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent


def cmake_version() -> str:
    text = (ROOT / "CMakeLists.txt").read_text()
    match = re.search(r"project\(\s*Cairn\s+VERSION\s+([0-9.]+)", text)
    if match is None:
        raise RuntimeError("no 'project(Cairn VERSION x.y.z' in CMakeLists.txt")
    return match.group(1)


class CMakeExtension(Extension):
    def __init__(self, name: str) -> None:
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        build_dir = Path(self.build_temp).resolve() / "cmake"
        build_dir.mkdir(parents=True, exist_ok=True)
        config = "Debug" if self.debug else "Release"
        configure = [
            "cmake", "-S", str(ROOT), "-B", str(build_dir),
            f"-DCMAKE_BUILD_TYPE={config}",
            f"-DPython3_EXECUTABLE={sys.executable}",
            "-DCAIRN_WITH_PYTHON=ON",
            "-DBUILD_SHARED_LIBS=OFF",
            "-DCMAKE_POSITION_INDEPENDENT_CODE=ON",
            "-DCAIRN_BUILD_TESTS=OFF",
            "-DCAIRN_BUILD_CLI=OFF",
            "-DCAIRN_BUILD_EXAMPLES=OFF",
            "-DCAIRN_BUILD_BENCH=OFF",
            "-DCAIRN_WITH_HDF5=OFF",
            "-DCAIRN_WITH_PETSC=OFF",
            "-DCAIRN_WITH_FORTRAN=OFF",
        ]
        if "CMAKE_GENERATOR" not in os.environ and _have("ninja"):
            configure += ["-G", "Ninja"]
        subprocess.run(configure, check=True)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        subprocess.run(["cmake", "--build", str(build_dir), "--target", "_cairn",
                        "--config", config, "-j", jobs], check=True)
        built = sorted((build_dir / "python" / "cairn").glob("_cairn*"))
        built = [p for p in built if p.suffix in (".so", ".pyd", ".dylib")]
        if len(built) != 1:
            raise RuntimeError(f"expected one built module _cairn in {build_dir}, found {built}")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        self.copy_file(str(built[0]), str(target))


def _have(program: str) -> bool:
    return any((Path(d) / program).exists() for d in os.environ.get("PATH", "").split(os.pathsep))


setup(
    version=cmake_version(),
    package_dir={"": "python"},
    packages=find_packages("python", include=["cairn", "cairn.*"]),
    package_data={"cairn": ["py.typed", "*.pyi"]},
    ext_modules=[CMakeExtension("cairn._cairn")],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": "build-python"}, "egg_info": {"egg_base": "build-python"}},
    zip_safe=False,
)
