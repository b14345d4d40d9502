"""Every ```python block of README.md and docs/*.md runs as written.

The blocks of one file run in sequence in one fresh interpreter (they share a namespace, as
a reader typing them in order would), in an empty temporary folder, with the repository on
the import path (examples/ is imported from there). Blocks that are not meant to run are
fenced ```text.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.markdown import ROOT, blocks, documents

RUNNER = """
import sys
sys.path.insert(0, {root!r})
from tests.docs.markdown import run_python_blocks
from pathlib import Path
run_python_blocks(Path({path!r}), {{"__name__": "__main__"}})
"""

RUNNABLE = [path for path in documents() if blocks(path, "python")]


@pytest.mark.parametrize("path", RUNNABLE, ids=[p.relative_to(ROOT).as_posix() for p in RUNNABLE])
def test_python_blocks_run_as_written(path: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    result = subprocess.run([sys.executable, "-c", RUNNER.format(root=str(ROOT), path=str(path))],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_learning_path_documents_have_runnable_blocks() -> None:
    names = {p.name for p in RUNNABLE}
    assert {"README.md", "autograd.md", "conv.md", "training.md", "visualization.md", "exercises.md"} <= names
