"""One table of bad inputs: the call, the exception class, words the message must contain.

Every row is a mistake a user makes; the error must name the function (or layer) and the
offending value or shape (DESIGN.md §6), never a NumPy traceback. To add a row, append
``Bad(lambda: call, ErrorClass, "word", "other words")``: the words are matched as plain,
case-sensitive substrings of the message.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad import nn, optim
from minigrad.data import DataLoader, TensorDataset


@dataclass
class Bad:
    call: Callable
    error: type[BaseException]
    words: tuple

    def __init__(self, call: Callable, error: type[BaseException], *words: str) -> None:
        self.call, self.error, self.words = call, error, words


def _backward_twice():
    x = mg.ones(2, requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def _saved_then_changed():
    h = mg.ones(2, requires_grad=True) * 1
    y = (h * h).sum()
    h.add_(1)
    y.backward()


def _leaf_in_place():
    w = mg.ones(2, requires_grad=True)
    w -= 1


BAD_INPUTS = [
    # DESIGN.md §6: shapes, channels, kernels, strides
    Bad(lambda: mg.ones(2, 3) + mg.ones(4), ValueError, "add", "(2, 3)", "(4,)"),
    Bad(lambda: mg.ones(2, 3) @ mg.ones(4, 5), ValueError, "matmul", "(2, 3)", "(4, 5)"),
    Bad(lambda: F.linear(mg.zeros(2, 3), mg.zeros(4, 5)), ValueError, "linear", "(2, 3)", "(4, 5)"),
    Bad(lambda: nn.Conv2d(3, 4, 3)(mg.ones(1, 5, 5, 2)), ValueError, "Conv2d", "3", "(1, 5, 5, 2)"),
    Bad(lambda: F.conv2d(mg.ones(1, 5, 5, 2), mg.ones(3, 3, 1, 4)), ValueError, "conv2d", "channels"),
    Bad(lambda: F.conv2d(mg.ones(1, 2, 2, 1), mg.ones(3, 3, 1, 1)), ValueError, "conv2d", "kernel"),
    Bad(lambda: F.conv2d(mg.ones(1, 5, 5, 1), mg.ones(3, 3, 1, 1), stride=0), ValueError, "conv2d", "stride"),
    Bad(lambda: F.max_pool2d(mg.ones(1, 4, 4, 1), 0), ValueError, "kernel_size", "0"),
    Bad(lambda: DataLoader(TensorDataset(np.zeros(3)), batch_size=0), ValueError,
        "batch_size", "0"),
    # autograd
    Bad(lambda: mg.tensor([1, 2], requires_grad=True), RuntimeError, "floating-point", "int64"),
    Bad(lambda: (mg.ones(2, 3, requires_grad=True) * 2).backward(), RuntimeError, "scalar outputs", "(2, 3)"),
    Bad(_backward_twice, RuntimeError, "second time", "retain_graph=True"),
    Bad(_saved_then_changed, RuntimeError, "mul", "version 0 when saved, version 1 now"),
    Bad(_leaf_in_place, RuntimeError, "sub_", "leaf tensor that requires grad", "no_grad"),
    # losses
    Bad(lambda: F.binary_cross_entropy(mg.tensor([0.5, 1.5]), mg.tensor([0.0, 1.0])), ValueError,
        "binary_cross_entropy", "between 0 and 1", "1.5"),
    Bad(lambda: F.binary_cross_entropy(mg.tensor([float("nan")]), mg.tensor([1.0])), ValueError,
        "binary_cross_entropy", "input", "NaN"),
    Bad(lambda: F.binary_cross_entropy(mg.tensor([0.5]), mg.tensor([1.5])), ValueError,
        "binary_cross_entropy", "target", "between 0 and 1"),
    Bad(lambda: F.binary_cross_entropy(mg.tensor([[0.5], [0.2]]), mg.tensor([0.0, 1.0])), ValueError,
        "binary_cross_entropy", "(2,)", "(2, 1)"),
    Bad(lambda: F.binary_cross_entropy([0.5], [1.0]), TypeError, "binary_cross_entropy", "input", "list"),
    Bad(lambda: F.binary_cross_entropy_with_logits(mg.zeros(2, 3), mg.zeros(2, 3), pos_weight=mg.ones(4)),
        ValueError, "binary_cross_entropy_with_logits", "pos_weight", "(4,)", "(2, 3)"),
    Bad(lambda: F.cross_entropy(mg.zeros(2, 0), mg.tensor([0, 0])), IndexError, "Target 0 is out of bounds"),
    # creation
    Bad(lambda: mg.full((2,), "x"), TypeError, "full", "fill_value", "'x'"),
    Bad(lambda: mg.eye(-1), ValueError, "eye", "n", "-1"),
    Bad(lambda: nn.Linear(2, 3).to("cuda"), RuntimeError, "CPU only", "cuda"),
    # load_state_dict
    Bad(lambda: nn.Linear(3, 4).load_state_dict({}), RuntimeError, "missing keys", "weight", "bias"),
    Bad(lambda: nn.Linear(3, 4).load_state_dict({"weight": np.zeros((3, 4)), "bias": np.zeros(4), "x": np.zeros(1)}),
        RuntimeError, "unexpected keys", "x"),
    Bad(lambda: nn.Linear(3, 4).load_state_dict({"weight": np.zeros((5, 4)), "bias": np.zeros(4)}),
        RuntimeError, "shape mismatches", "weight", "(5, 4)", "(3, 4)"),
    Bad(lambda: nn.Linear(3, 4).load_state_dict({"weight": np.zeros((4, 3)), "bias": np.zeros(4)}),
        RuntimeError, "looks like a PyTorch state_dict", "(4, 3)", "state_dict_from_torch"),
    Bad(lambda: nn.Linear(3, 4).load_state_dict("weights.npz"), TypeError, "load_state_dict", "str"),
    Bad(lambda: nn.Linear(3, 4).load_state_dict([np.zeros((3, 4))]), TypeError, "load_state_dict", "list"),
    Bad(lambda: nn.Linear(3, 4).load_state_dict({"weight": [[0.0] * 4] * 3, "bias": np.zeros(4)}), TypeError,
        "load_state_dict", "weight (list)"),
    Bad(lambda: nn.Linear(3, 4).load_state_dict({"weight": "zeros", "bias": np.zeros(4)}), TypeError,
        "load_state_dict", "weight (str)"),
    # optimizers
    Bad(lambda: optim.SGD([mg.ones(1, requires_grad=True)], lr=-1), ValueError, "SGD", "-1"),
    # layers' constructors and containers
    Bad(lambda: nn.Linear(3.5, 4), TypeError, "Linear", "in_features", "3.5"),
    Bad(lambda: nn.Linear("3", 4), TypeError, "Linear", "in_features", "'3'"),
    Bad(lambda: nn.Linear(3, 0), ValueError, "Linear", "out_features", "0"),
    Bad(lambda: nn.BatchNorm2d(-3), ValueError, "BatchNorm2d", "num_features", "-3"),
    Bad(lambda: nn.BatchNorm1d(3)(mg.ones(1, 3)), ValueError, "Expected more than 1 value per channel",
        "(1, 3)"),
    Bad(lambda: nn.Sequential(nn.ReLU(), 5), TypeError, "Sequential", "argument 1", "5"),
    Bad(lambda: nn.Sequential(nn.ReLU())[3], IndexError, "Sequential", "index 3", "1 modules"),
    Bad(lambda: nn.Sequential(nn.ReLU())["0"], TypeError, "Sequential", "str"),
    # tensors
    Bad(lambda: mg.tensor([[1, 2], [3]]), ValueError, "Tensor", "uneven lengths"),
    Bad(lambda: mg.tensor([1.0], dtype="floaty"), TypeError, "Tensor", "'floaty'"),
    Bad(lambda: mg.tensor(["a"]), TypeError, "Tensor", "cannot make a tensor"),
    Bad(lambda: mg.ones(2).clamp(mg.ones(2)), TypeError, "clamp", "Tensor"),
    Bad(lambda: mg.tensor([1, 2]) ** -2, RuntimeError, "Integers to negative integer powers are not allowed"),
    Bad(lambda: mg.ones(2) + "a", TypeError, "unsupported operand", "str"),
    Bad(lambda: mg.tensor([1, 2]).add_(1.5), TypeError, "add_", "float32", "int64"),
    Bad(lambda: mg.ones(2).to("cuda"), RuntimeError, "CPU only", "'cuda'"),
    Bad(lambda: mg.ones(2, 3).sum(dim=2), IndexError, "sum", "[-2, 1]", "2"),
    Bad(lambda: mg.zeros(4, 0).amax(1), IndexError, "amax()", "Expected reduction dim 1 to have non-zero size"),
    Bad(lambda: mg.zeros(4, 0).amin(), IndexError, "amin()", "non-zero size"),
    Bad(lambda: mg.tensor([1, 2]).mean(), TypeError, "mean", "int64"),
    Bad(lambda: F.pad(mg.zeros(2), (1.5, 1)), TypeError, "pad", "tuple of ints", "1.5"),
    Bad(lambda: F.pad(mg.zeros(2), (1, 2, 3)), ValueError, "pad", "(1, 2, 3)"),
    # dtypes
    Bad(lambda: F.linear(mg.ones(2, 3, dtype=np.float64), mg.ones(3, 4)), RuntimeError, "linear",
        "same dtype", "float64", "float32"),
    Bad(lambda: mg.ones(2, 3, dtype=np.float64) @ mg.ones(3, 4), RuntimeError, "matmul", "same dtype"),
    Bad(lambda: nn.Conv2d(3, 4, 3)(mg.ones(1, 5, 5, 3, dtype=np.float64)), RuntimeError, "conv2d",
        "input float64", "weight float32"),
    Bad(lambda: F.softmax(mg.tensor([1, 2]), 0), TypeError, "softmax", "int64"),
    Bad(lambda: F.leaky_relu(mg.tensor([1, 2])), TypeError, "leaky_relu", "int64"),
    Bad(lambda: F.dropout(mg.tensor([1, 2])), RuntimeError, "dropout", "int64"),
]


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=lambda bad: "-".join(bad.words[:2]))
def test_bad_input_raises_a_clear_error_naming_the_function_and_value(bad: Bad) -> None:
    with pytest.raises(bad.error) as caught:
        bad.call()
    message = str(caught.value)
    missing = [word for word in bad.words if word not in message]
    assert not missing, f"message {message!r} lacks {missing}"
