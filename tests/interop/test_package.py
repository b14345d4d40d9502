"""minigrad.interop's modules import one way: each only from the modules before it in ORDER."""
from __future__ import annotations

from tests.test_layers import imported_modules, package_files

ORDER = ["layouts", "convert", "functions", "trace", "twin", "compare"]


def test_each_module_imports_only_the_ones_before_it() -> None:
    files = package_files()
    inside = {m.rpartition(".")[2] for m in files if m.startswith("minigrad.interop.")}
    assert inside == set(ORDER), "a module of minigrad.interop is missing from ORDER"
    problems = []
    for rank, name in enumerate(ORDER):
        module = f"minigrad.interop.{name}"
        for target in imported_modules(files[module].read_text(), module, False, set(files)):
            if target.startswith("minigrad.interop.") and target.rpartition(".")[2] not in ORDER[:rank]:
                problems.append(f"{module} imports {target}")
    assert not problems, "imports pointing up inside minigrad.interop:\n  " + "\n  ".join(problems)
