"""docs/api.md stays in sync with the public names."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim, viz

API = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def public_names() -> set[str]:
    names = set(mg.__all__) | set(nn.__all__) | set(optim.__all__) | set(viz.__all__)
    names |= {n for n, f in vars(F).items() if inspect.isfunction(f) and not n.startswith("_")
              and f.__module__ == F.__name__}
    return names


def test_every_public_name_is_documented() -> None:
    text = API.read_text()
    missing = sorted(n for n in public_names() if not re.search(rf"`[^`]*\b{n}\b[^`]*`", text))
    assert not missing, f"add these to docs/api.md: {missing}"
