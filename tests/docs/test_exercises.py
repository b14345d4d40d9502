"""The solutions of docs/exercises.md, checked against PyTorch (float64, NHWC <-> NCHW)."""
from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import minigrad as mg

from minigrad.autograd import OPS
from tests.docs.markdown import ROOT, blocks, run_python_blocks
from tests.docs.test_conv_formulas import kernel_to_torch, pytorch_conv_and_grads, to_nchw

EXERCISES = ROOT / "docs" / "exercises.md"
RTOL = 1e-10


def run_exercises() -> dict:
    """Run the page's blocks; return the namespace they build (SeedConv2d, BuggySeedConv2d, ...).

    Their @register calls add ops to OPS; they are taken out again so that the op-table
    test, which wants a case for every registered op, sees only minigrad's own.
    """
    before = dict(OPS)
    try:
        return run_python_blocks(EXERCISES, {"__name__": "exercises"})
    finally:
        OPS.clear()
        OPS.update(before)


@pytest.fixture(scope="module")
def solutions() -> dict:
    return run_exercises()


def markdown_table(section: str) -> list[list[str]]:
    """Rows of the first table after the heading/line ``section`` (header and rule dropped)."""
    text = EXERCISES.read_text()
    lines = text[text.index(section):].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().strip("`'") for cell in line.strip("|").split("|")])
    return rows


def test_exercise_1_output_sizes_and_remainders_match_pytorch() -> None:
    questions = markdown_table("## 1. Predict")
    answers = markdown_table("**Solution.** `Hp = H + 2P`")
    assert len(questions) == len(answers) == 5
    for (name, H, K, S, P, D), (_, _, _, OH, r, _) in zip(questions, answers):
        H, K, S, D, OH, r = map(int, (H, K, S, D, OH, r))
        padding = P if P == "same" else int(P)
        x, w = torch.zeros(1, 1, H, H, dtype=torch.float64), torch.zeros(1, 1, K, K, dtype=torch.float64)
        z = torch.nn.functional.conv2d(x, w, stride=S, padding=padding, dilation=D)
        assert z.shape[2] == OH, name
        if padding != "same":      # r is the output_padding that gives the transposed conv H rows back
            back = torch.nn.functional.conv_transpose2d(z, w, stride=S, padding=padding, dilation=D,
                                                        output_padding=r)
            assert back.shape[2] == H and r < S, name


# stride, padding: remainders r = 1 with r <= P and r > P, and r = 0
@pytest.mark.parametrize("H, K, S, P", [(6, 3, 2, 1), (9, 3, 3, 1), (5, 3, 2, 1), (7, 2, 3, 0), (5, 3, 1, 2)])
def test_exercise_2_seed_conv_vjp_matches_pytorch(solutions, H, K, S, P) -> None:
    op = solutions["SeedConv2d"]
    rng = np.random.default_rng(H + K + S)
    x, k, b = rng.standard_normal((2, H, H + 1, 3)), rng.standard_normal((K, K, 3, 2)), rng.standard_normal(2)
    z, saved = op.forward(x, k, b, stride=S, padding=P)
    g = rng.standard_normal(z.shape)
    expected = pytorch_conv_and_grads(x, k, b, g, S, P, 1)
    np.testing.assert_allclose(z, expected[0], rtol=RTOL, atol=RTOL)
    for mine, theirs in zip(op.vjp(g, saved, (True, True, True)), expected[1:]):
        np.testing.assert_allclose(mine, theirs, rtol=RTOL, atol=RTOL)
    assert op.vjp(g, saved, (False, True, False))[::2] == (None, None)


def test_exercise_3_the_bug_is_in_the_input_gradient_only(solutions) -> None:
    rng = np.random.default_rng(3)
    x, k, b = rng.standard_normal((1, 6, 6, 2)), rng.standard_normal((3, 3, 2, 3)), rng.standard_normal(3)
    z, saved = solutions["BuggySeedConv2d"].forward(x, k, b, stride=2, padding=1)
    g = rng.standard_normal(z.shape)
    dx, dk, db = solutions["BuggySeedConv2d"].vjp(g, saved, (True, True, True))
    _, gx, gk, gb = pytorch_conv_and_grads(x, k, b, g, 2, 1, 1)
    np.testing.assert_allclose(dk, gk, rtol=RTOL, atol=RTOL)
    np.testing.assert_allclose(db, gb, rtol=RTOL)
    assert not np.allclose(dx, gx)                                    # input 0, as gradcheck reports
    # the fix named in the solution: flip_kernels instead of the transpose alone
    fixed = torch.nn.functional.conv_transpose2d(to_nchw(g), kernel_to_torch(k), stride=2, padding=1,
                                                 output_padding=1)
    np.testing.assert_allclose(solutions["SeedConv2d"].vjp(g, saved, (True, False, False))[0],
                               fixed.permute(0, 2, 3, 1).numpy(), rtol=RTOL, atol=RTOL)


def test_exercise_4_prints_the_report_the_page_shows(capsys) -> None:
    run_exercises()
    printed = capsys.readouterr().out.splitlines()
    section = EXERCISES.read_text().splitlines().index("## 4. Why gradcheck fails at a max-pool tie") + 1
    shown = [code.strip() for line, code in blocks(EXERCISES, "text") if line > section]
    assert shown[0] == printed[-1]
    analytic, numeric = map(float, re.search(r"analytic (\S+), numeric (\S+) ", printed[-1]).groups())
    assert numeric == pytest.approx(analytic / 2, rel=1e-4)          # the tie: half of the cotangent


def test_exercise_2_passes_gradcheck(solutions):
    x, k, b = (mg.randn(*s, requires_grad=True) for s in ((1, 6, 6, 2), (3, 3, 2, 3), (3,)))
    op = solutions["SeedConv2d"]
    assert mg.gradcheck(lambda x, k, b: op.apply(x, k, b, stride=2, padding=1), [x, k, b])


def test_exercise_3_gradcheck_names_input_0(solutions):
    x, k, b = (mg.randn(*s, requires_grad=True) for s in ((1, 6, 6, 2), (3, 3, 2, 3), (3,)))
    op = solutions["BuggySeedConv2d"]
    with pytest.raises(mg.GradcheckError, match=r"input 0 \(shape \(1, 6, 6, 2\)\)"):
        mg.gradcheck(lambda x, k, b: op.apply(x, k, b, stride=2, padding=1), [x, k, b])
