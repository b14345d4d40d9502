"""einsum, with the VJP that is itself an einsum.

For ``y = einsum("ij,jk->ik", a, b)`` the gradient of ``a`` contracts the output gradient
with every other operand and lands on a's subscripts: ``ga = einsum("ik,jk->ij", g, b)``.
Two details complete the rule: a letter that only ``a`` has (summed inside a alone, as j in
"ij->i") gets the gradient broadcast along it, and a letter repeated in a's term (a
diagonal, "ii->i") receives the gradient on that diagonal and zeros off it.
"""
from __future__ import annotations

import string

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minigrad.ops.base import Op, register


def parse_equation(equation: str, shapes: list[tuple]) -> tuple[list[str], str, dict[str, int]]:
    """(one term per operand, the output term, letter -> size): "..." spelled out in spare
    letters (aligned from the right, as broadcasting does), the implicit output (no "->":
    the letters seen once, sorted) made explicit, sizes checked (1 broadcasts)."""
    text = equation.replace(" ", "")
    lhs, arrow, rhs = text.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: the equation {equation!r} has {len(terms)} operand terms but "
                         f"{len(shapes)} operands were given")
    spare = [c for c in string.ascii_letters if c not in text]
    named = [len(t.replace("...", "")) for t in terms]
    width = max([len(s) - n for t, s, n in zip(terms, shapes, named) if "..." in t], default=0)
    ellipsis = "".join(spare[:width])
    terms = [t.replace("...", ellipsis[width - (len(s) - n):] if len(s) > n else "")
             for t, s, n in zip(terms, shapes, named)]
    for term, shape in zip(terms, shapes):
        if len(term) != len(shape) or not all(c in string.ascii_letters for c in term):
            raise ValueError(f"einsum: the term {term!r} does not fit an operand of shape {shape} "
                             f"(equation {equation!r}); subscripts are letters, one per dimension")
    if arrow:
        output = rhs.replace("...", ellipsis)
    else:
        letters = "".join(terms)
        output = ellipsis + "".join(sorted(c for c in set(letters) if letters.count(c) == 1
                                           and c not in ellipsis))
    if len(set(output)) != len(output) or not set(output) <= set("".join(terms)):
        raise ValueError(f"einsum: the output {rhs!r} must use each letter at most once and only "
                         f"letters of the operands (equation {equation!r})")
    sizes: dict[str, int] = {}
    for term, shape in zip(terms, shapes):
        for c, n in zip(term, shape):
            if sizes.get(c, 1) != 1 and n not in (1, sizes[c]):
                raise ValueError(f"einsum: subscript {c!r} has sizes {sizes[c]} and {n} "
                                 f"(equation {equation!r}, shapes {shapes})")
            sizes[c] = max(sizes.get(c, 1), n) if n else 0
    return terms, output, sizes


def _operand_gradient(g: np.ndarray, operands: tuple, terms: list[str], output: str,
                      sizes: dict[str, int], k: int) -> np.ndarray:
    """The gradient of operand k: g contracted with the other operands onto k's term."""
    term, x = terms[k], operands[k]
    unique = "".join(dict.fromkeys(term))
    others = [i for i in range(len(operands)) if i != k]
    present = set(output).union(*(terms[i] for i in others))
    kept = "".join(c for c in unique if c in present)
    contraction = ",".join([output] + [terms[i] for i in others]) + "->" + kept
    gk = np.einsum(contraction, g, *(operands[i] for i in others), optimize=True)
    # letters summed inside x alone: the gradient is constant along them
    alone = tuple(i for i, c in enumerate(unique) if c not in present)
    full = np.broadcast_to(np.expand_dims(gk, alone), tuple(sizes[c] for c in unique))
    # letters x had with size 1 (broadcast): their copies add up
    own = {c: n for c, n in zip(term, x.shape)}
    stretched = tuple(i for i, c in enumerate(unique) if own[c] == 1 and sizes[c] != 1)
    if stretched:
        full = full.sum(axis=stretched, keepdims=True)
    if len(unique) == len(term):
        return full
    # repeated letters: the gradient lands on the diagonal they name, zeros elsewhere
    gx = np.zeros(x.shape, dtype=g.dtype)
    strides = [sum(gx.strides[p] for p, c2 in enumerate(term) if c2 == c) for c in unique]
    as_strided(gx, shape=full.shape, strides=strides)[...] = full
    return gx


@register("einsum")
class Einsum(Op):
    """y = einsum(equation, *operands), NumPy's and PyTorch's subscript notation ("ij,jk->ik",
    "...", implicit output); each operand's gradient is the einsum described in the module doc."""

    @staticmethod
    def forward(*operands, equation):
        terms, output, sizes = parse_equation(equation, [x.shape for x in operands])
        explicit = ",".join(terms) + "->" + output
        # optimize: pairs go through BLAS (3x faster at 128x256 @ 256x128, ~10 us of planning)
        y = np.einsum(explicit, *operands, optimize=len(operands) > 1)
        return y, (operands, terms, output, sizes)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        operands, terms, output, sizes = saved
        return tuple(_operand_gradient(g, operands, terms, output, sizes, k) if needed else None
                     for k, needed in enumerate(needs_input_grad))
