"""Benchmarks drop the variables that force OpenBLAS's kernel, unless told to keep them."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

SHOW = ("import sys; sys.path.insert(0, 'benchmarks'); from environment import use_native_blas; "
        "use_native_blas(); import os; "
        "print(os.environ.get('OPENBLAS_CORETYPE'), os.environ.get('OPENBLAS_L2_SIZE'), "
        "os.environ.get('MINIGRAD_BENCH_REMOVED'))")
FORCED = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "512"}


def run(*args: str) -> str:
    env = {**os.environ, **FORCED}
    env.pop("MINIGRAD_BENCH_REMOVED", None)
    return subprocess.run([sys.executable, "-c", SHOW, *args], env=env, check=True, capture_output=True,
                          text=True).stdout.split()


def test_a_benchmark_re_executes_itself_without_the_forcing_variables() -> None:
    assert run() == ["None", "None", "OPENBLAS_CORETYPE=Haswell", "OPENBLAS_L2_SIZE=512"]


def test_keep_flag_leaves_the_environment_as_it_is() -> None:
    assert run("--keep-blas-env") == ["Haswell", "512", "None"]


def test_the_header_says_the_variables_were_kept() -> None:
    env = {**os.environ, "OPENBLAS_CORETYPE": "Haswell"}
    code = ("import sys; sys.path.insert(0, 'benchmarks'); import torch; from environment import "
            "describe_libraries; print(describe_libraries())")
    out = subprocess.run([sys.executable, "-c", code, "--keep-blas-env"], env=env, check=True,
                         capture_output=True, text=True).stdout
    assert "kept (--keep-blas-env): OPENBLAS_CORETYPE=Haswell" in out
    assert "architecture Haswell" in out, out              # the variable really forces the kernel


def test_re_executing_after_numpy_was_loaded_is_refused(monkeypatch) -> None:
    monkeypatch.syspath_prepend("benchmarks")
    from environment import use_native_blas

    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.setattr(sys, "argv", ["bench.py"])
    with pytest.raises(RuntimeError, match="before NumPy is imported"):
        use_native_blas()
