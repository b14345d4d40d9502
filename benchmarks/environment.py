"""Benchmarks run NumPy on its native BLAS kernel and print which libraries they measured.

Some machines set ``OPENBLAS_CORETYPE`` (and ``OPENBLAS_L2_SIZE``) because old OpenBLAS
builds misbehave on their processors. A current NumPy then runs a forced kernel, e.g. the
AVX2 ``Haswell`` one on an AVX-512 processor, about half as fast, while PyTorch (MKL, oneDNN)
is untouched. A user's machine has no such setting, so a benchmark calls ``use_native_blas()``
before anything imports NumPy: if either variable is set, the script executes itself again
without them (OpenBLAS reads them only when it is loaded). ``--keep-blas-env`` skips that;
the tests of the benchmarks use it, so that they run with the environment as it is.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
import time

FORCING_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
KEEP_FLAG = "--keep-blas-env"
REMOVED_MARK = "MINIGRAD_BENCH_REMOVED"     # set for the re-executed process: what was removed


def use_native_blas() -> None:
    """Re-execute this script without the variables that force OpenBLAS's kernel."""
    if KEEP_FLAG in sys.argv[1:]:
        return
    forced = {name: os.environ[name] for name in FORCING_VARIABLES if name in os.environ}
    if not forced:
        return
    if "numpy" in sys.modules:
        raise RuntimeError("use_native_blas() must run before NumPy is imported")
    env = {name: value for name, value in os.environ.items() if name not in FORCING_VARIABLES}
    env[REMOVED_MARK] = " ".join(f"{name}={value}" for name, value in forced.items())
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)


def add_keep_flag(parser: argparse.ArgumentParser) -> None:
    """Document the flag that ``use_native_blas`` reads from ``sys.argv`` before parsing."""
    parser.add_argument(KEEP_FLAG, action="store_true",
                        help="keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE as they are (the tests do)")


def describe_libraries() -> str:
    """The header lines: BLAS environment, NumPy's and PyTorch's libraries, kernels, threads."""
    import numpy as np
    import torch
    from threadpoolctl import threadpool_info

    forced = [f"{name}={os.environ[name]}" for name in FORCING_VARIABLES if name in os.environ]
    if os.environ.get(REMOVED_MARK):
        blas_env = f"removed for this run: {os.environ[REMOVED_MARK]} (native kernel)"
    elif forced:
        blas_env = f"kept ({KEEP_FLAG}): {' '.join(forced)}"
    else:
        blas_env = "none set (native kernel)"
    lines = [f"OpenBLAS forcing variables: {blas_env}"]
    for pool in threadpool_info():
        lines.append(f"threadpoolctl: {pool['user_api']} {pool['internal_api']} {pool['version']}, "
                     f"architecture {pool.get('architecture', '-')}, {pool['num_threads']} threads "
                     f"({os.path.basename(pool['filepath'])})")
    config = torch.__config__.show()
    mkl = re.search(r"Math Kernel Library Version (\S+)", config)
    onednn = re.search(r"MKL-DNN (v\S+)", config)
    lines.append(f"NumPy {np.__version__}; PyTorch {torch.__version__}: {torch.get_num_threads()} threads, "
                 f"MKL {mkl.group(1) if mkl else 'absent'}, "
                 f"oneDNN {onednn.group(1) if onednn and torch.backends.mkldnn.is_available() else 'absent'}, "
                 f"CPU capability {torch.backends.cpu.get_cpu_capability()}")
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    lines.append(f"started {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average (1, 5, 15 min) "
                 f"{load} on {os.cpu_count()} cores: other processes share these cores")
    return "\n".join(lines)
