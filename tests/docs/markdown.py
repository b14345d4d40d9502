"""Code blocks of the Markdown documents: the ones fenced ```python run as written."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


def documents() -> list[Path]:
    """README.md and every docs/*.md."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path: Path, language: str) -> list[tuple[int, str]]:
    """(line number, code) of every block fenced ```<language> in ``path``, in order."""
    text = path.read_text()
    return [(text.count("\n", 0, m.start()) + 2, m.group(2)) for m in FENCE.finditer(text)
            if m.group(1) == language]


def run_python_blocks(path: Path, namespace: dict) -> dict:
    """Execute the file's ```python blocks in sequence in one namespace; return it."""
    for line, code in blocks(path, "python"):
        exec(compile("\n" * (line - 1) + code, str(path), "exec"), namespace)
    return namespace
