"""The README's tour runs as written."""
from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_tour_runs(capsys) -> None:
    tour = re.search(r"## A tour\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)
    exec(compile(tour, "README.md", "exec"), {})
    assert capsys.readouterr().out.strip() == "mean (3, 2) float32"


def test_start_here_path_and_every_local_link_exists() -> None:
    text = README.read_text()
    start = text[text.index("## Start here"):text.index("## The two commands")]
    order = [start.index(name) for name in ("A tour", "training.md", "autograd.md", "conv.md", "exercises.md")]
    assert order == sorted(order)
    assert text.index("## Start here") < text.index("## A tour")
    links = re.findall(r"\]\(((?:docs|examples)/[^)#]+)\)|src=\"([^\"]+)\"", text)
    for target in {a or b for a, b in links}:
        assert (README.parent / target).exists(), target
