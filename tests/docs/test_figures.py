"""docs/figures/make_figures.py writes every figure the docs show."""
from __future__ import annotations

import re
from pathlib import Path

from docs.figures.make_figures import main

ROOT = Path(__file__).resolve().parents[2]


def test_the_script_draws_every_figure_that_conv_md_shows(tmp_path, capsys) -> None:
    main(["--out", str(tmp_path)])
    shown = re.findall(r"\]\(figures/([^)]+\.png)\)", (ROOT / "docs" / "conv.md").read_text())
    assert len(shown) == 5
    for name in shown + ["table1_filters.png", "graphs/small_cnn_grads.png"]:
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG"), name
        assert (ROOT / "docs" / "figures" / name).exists(), name
    assert "wrote" in capsys.readouterr().out
