"""The README's tour runs as written."""
from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tour_runs(capsys) -> None:
    tour = re.search(r"## A tour\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    exec(compile(tour, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip() == "mean (3, 2) float32"
