"""The PyTorch tensor API of issue 19 on the inputs the case table avoids: ties, zeros,
halves, NaN, empty tensors, integers; dtypes; and the errors bad arguments give."""
from __future__ import annotations

import builtins
import importlib
import pkgutil

import numpy as np
import pytest
import torch

import minigrad
import minigrad as mg
from minigrad.ops import join

EXACT = dict(rtol=0, atol=0)
CLOSE = dict(rtol=1e-12, atol=1e-12)


def both(values, requires_grad=False, dtype=np.float64):
    """The same data as a minigrad tensor and a torch tensor."""
    array = np.array(values, dtype=dtype)
    return (mg.tensor(array, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


TIES = [[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, 2.0], [-1.0, -5.0, -1.0, -5.0]]


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim, keepdim", [(0, False), (1, False), (1, True), (-1, True)])
def test_max_min_along_a_dim_with_ties_pick_the_first_and_send_it_the_gradient(name, dim, keepdim):
    x, xt = both(TIES, requires_grad=True)
    ours, theirs = getattr(x, name)(dim, keepdim=keepdim), getattr(xt, name)(dim, keepdim=keepdim)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.detach().numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    assert ours.indices.dtype == mg.int64 and not ours.indices.requires_grad
    ours.values.sum().backward()
    theirs.values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_without_dim_share_the_gradient_among_ties(name):
    x, xt = both(TIES, requires_grad=True)
    getattr(x, name)().backward()
    getattr(xt, name)().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **CLOSE)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": 0, "keepdim": True}, {"keepdim": True}])
def test_argmax_argmin_follow_torch_on_ties_and_nan(name, kwargs):
    for values in (TIES, [[1.0, np.nan, 2.0, np.nan], [0.0, 0.0, 1.0, 1.0]]):
        x, xt = both(values, requires_grad=True)
        ours = getattr(x, name)(**kwargs)
        np.testing.assert_array_equal(ours.numpy(), getattr(xt, name)(**kwargs).numpy())
        assert ours.dtype == mg.long and ours.grad_fn is None


def test_max_propagates_nan_like_torch():
    x, xt = both([[1.0, np.nan, 2.0]], requires_grad=True)
    ours, theirs = x.max(1), xt.max(1)
    assert np.isnan(ours.values.item()) and ours.indices.item() == theirs.indices.item() == 1


def test_max_of_a_tensor_and_a_tensor_is_maximum_and_returns_are_named_tuples():
    a, b = mg.tensor([1.0, 5.0]), mg.tensor([3.0, 2.0])
    assert mg.max(a, b).tolist() == [3.0, 5.0] and a.min(b).tolist() == [1.0, 2.0]
    values, indices = mg.max(mg.tensor([[1.0, 2.0]]), dim=1)
    assert values.tolist() == [2.0] and indices.tolist() == [1]
    assert mg.tensor(7.0).max(0).indices.item() == 0


@pytest.mark.parametrize("values", [[[1.0, 3.0, 3.0, 2.0, 3.0], [2.0, 2.0, 1.0, 1.0, 0.0]],
                                    [[1.0, np.nan, 0.0, np.nan, 1.0]]])
@pytest.mark.parametrize("descending", [False, True])
def test_sort_is_stable_with_nan_largest_as_torch(values, descending):
    x, xt = both(values)
    ours, theirs = x.sort(1, descending=descending), xt.sort(1, descending=descending)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    np.testing.assert_array_equal(x.argsort(1, descending=descending).numpy(), theirs.indices.numpy())


def test_prod_gradient_with_zero_one_and_two_zeros_per_row_matches_torch():
    rows = [[2.0, 0.0, 3.0, 4.0], [0.0, 5.0, 0.0, 1.0], [1.5, -2.0, 0.5, 3.0], [0.0, 0.0, 0.0, 0.0]]
    for dim in (None, 1):
        x, xt = both(rows, requires_grad=True)
        (x.prod() if dim is None else x.prod(dim)).sum().backward()
        (xt.prod() if dim is None else xt.prod(dim)).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **CLOSE)


def test_cumprod_gradient_around_zeros_matches_torch():
    rows = [[2.0, 0.0, 3.0, 4.0, 0.5], [0.0, 5.0, 0.0, 1.0, 2.0], [1.5, -2.0, 0.5, 3.0, 0.0]]
    x, xt = both(rows, requires_grad=True)
    cotangent = np.arange(15.0).reshape(3, 5) - 7
    x.cumprod(1).backward(cotangent)
    xt.cumprod(1).backward(torch.tensor(cotangent))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), **CLOSE)


def test_round_halves_to_even_with_decimals_and_zero_gradient():
    values = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.25, 1.35]
    for decimals in (0, 1, -1):
        x, xt = both(values, dtype=np.float32)
        np.testing.assert_array_equal(x.round(decimals=decimals).numpy(), xt.round(decimals=decimals).numpy())
    x = mg.tensor(values, requires_grad=True)
    x.round().sum().backward()
    assert x.grad.tolist() == [0.0] * len(values)


def test_remainder_floor_divide_and_trunc_follow_python_signs_and_integers_stay_integers():
    a, at = both([[-5, 5, -7, 7]], dtype=np.int64)
    b, bt = both([[3, -3, 2, -2]], dtype=np.int64)
    for ours, theirs in [(a % b, at % bt), (a // b, at // bt), (a.fmod(b), at.fmod(bt)),
                         (a.div(b, rounding_mode="trunc"), at.div(bt, rounding_mode="trunc")),
                         (a.div(b, rounding_mode="floor"), at.div(bt, rounding_mode="floor"))]:
        assert ours.dtype == mg.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x, xt = both([-5.5, 5.5, 0.0], dtype=np.float32)
    for ours, theirs in [(x % 2, xt % 2), (x // -2, xt // -2), (7 % x[:2], 7 % xt[:2]), (x.fmod(-2), xt.fmod(-2))]:
        assert ours.dtype == mg.float32
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(ZeroDivisionError, match="remainder: integer division by zero"):
        a % mg.zeros(4, dtype=mg.long)
    with pytest.raises(ValueError, match="rounding_mode"):
        x.div(2, rounding_mode="round")


def test_math_on_integers_gives_the_default_float_and_rounding_keeps_integers():
    n, nt = both([1, -2, 3], dtype=np.int64)
    for name in ("sin", "exp2", "rsqrt", "reciprocal", "log1p", "atan"):
        with np.errstate(all="ignore"):
            ours = getattr(n, name)()
        assert ours.dtype == mg.float32 == np.dtype(str(getattr(nt, name)().dtype).split(".")[1])
    for name in ("floor", "ceil", "round", "trunc", "sign", "square"):
        ours, theirs = getattr(n, name)(), getattr(nt, name)()
        assert ours.dtype == mg.int64
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(TypeError, match="frac"):
        n.frac()
    with pytest.raises(TypeError, match="var"):
        n.var()


@pytest.mark.parametrize("call", [
    lambda m, x: m.var(x), lambda m, x: m.var(x, 0, False), lambda m, x: m.var(x, False),
    lambda m, x: m.std(x, dim=1, keepdim=True), lambda m, x: m.std(x, correction=2),
    lambda m, x: m.var(x, (0, 1), unbiased=True), lambda m, x: m.std(x, unbiased=False),
])
def test_var_std_signatures_and_defaults_match_torch(call):
    x, xt = both([[1.0, 2.0, 4.0], [0.5, -1.0, 3.0]])
    np.testing.assert_allclose(call(mg, x).numpy(), call(torch, xt).numpy(), **CLOSE)


def test_var_with_too_few_elements_warns_and_std_of_a_constant_has_zero_gradient():
    with pytest.warns(RuntimeWarning, match="degrees of freedom"):
        assert np.isnan(mg.tensor([1.0]).var().item())
    x = mg.ones(3, requires_grad=True)
    x.std().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(TypeError, match="unbiased or correction"):
        x.var(unbiased=True, correction=0)


def test_empty_tensors_reduce_as_torch():
    e, et = both(np.zeros((0, 3)))
    for ours, theirs in [(e.prod(), et.prod()), (e.prod(0), et.prod(0)), (e.cumsum(0), et.cumsum(0)),
                         (e.logsumexp(0), et.logsumexp(0)), (e.all(), et.all()), (e.any(1), et.any(1)),
                         (mg.cat([e, e]), torch.cat([et, et])), (e.sort(0).values, et.sort(0).values)]:
        assert ours.shape == tuple(theirs.shape)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(ValueError, match="max: expected a reduction dim"):
        e.max()
    with pytest.raises(ValueError, match="argmax: cannot reduce over dimension 0 of size 0"):
        e.argmax(0)


def test_integer_reductions_accumulate_in_int64():
    n = mg.tensor(np.array([[1, 2], [3, 4]], dtype=np.int32))
    assert n.prod().dtype == n.cumsum(1).dtype == n.cumprod(0).dtype == mg.long
    assert mg.tensor([True, True]).cumsum(0).tolist() == [1, 2]


def test_dtype_names_are_numpy_dtypes_and_conversions_match_torch():
    x = mg.tensor([1.5, -2.0, 0.0])
    assert x.dtype == mg.float32 == mg.float and mg.double == np.float64 and mg.half == np.float16
    assert mg.long == mg.int64 and mg.int == mg.int32 and mg.short == mg.int16
    assert mg.bool == np.bool_ and mg.uint8 == np.uint8 and mg.int8 == np.int8
    assert x.long().tolist() == [1, -2, 0] and x.int().dtype == mg.int32
    assert x.bool().tolist() == [True, True, False] and x.half().dtype == mg.float16
    assert x.type(mg.float64).dtype == mg.float64 and x.type() == "minigrad.FloatTensor"
    assert mg.zeros(2, dtype=mg.long).dtype == np.int64


def test_dtype_names_shadow_builtins_only_in_the_package_namespace():
    for info in pkgutil.walk_packages(minigrad.__path__, "minigrad."):
        if info.name == "minigrad.viz":
            continue                                     # needs graphviz; imports nothing by star
        module = importlib.import_module(info.name)
        for name in ("float", "int", "bool"):
            assert vars(module).get(name, getattr(builtins, name)) is getattr(builtins, name), \
                f"{info.name}.{name} shadows the builtin"
    assert builtins.max is max and mg.max is not max


def test_cat_stack_where_check_their_arguments():
    a, b = mg.ones(2, 3), mg.ones(2, 4)
    with pytest.raises(ValueError, match=r"cat: sizes of tensors must match except in dimension 0"):
        mg.cat([a, b])
    with pytest.raises(TypeError, match="cat: expected a list or tuple of tensors"):
        mg.cat(a)
    with pytest.raises(ValueError, match=r"stack: expects each tensor to be equal size, but got \(2, 3\) at entry 0"):
        mg.stack([a, b])
    with pytest.raises(ValueError, match="where: shapes"):
        mg.where(a > 0, a, b)
    with pytest.raises(TypeError, match="where: the condition must be a boolean"):
        mg.where(mg.ones(2, 3), a, a)
    assert [t.tolist() for t in mg.where(mg.tensor([[0, 2], [3, 0]]) > 0)] == [[0, 1], [1, 0]]


def test_where_keeps_the_tensor_dtype_against_a_python_number():
    x = mg.tensor([1.0, -1.0], dtype=mg.float32)
    assert mg.where(x > 0, x, 0.0).dtype == mg.float32 == mg.where(x > 0, 1.0, x).dtype


def test_index_ops_check_their_arguments():
    x = mg.arange(6.0).reshape(2, 3)
    with pytest.raises(IndexError, match=r"gather: index values in \[-1, -1\] are out of range"):
        x.gather(1, mg.tensor([[-1]]))
    with pytest.raises(ValueError, match="gather: index .* must have as many dimensions"):
        x.gather(1, mg.tensor([1]))
    with pytest.raises(IndexError, match="index_select: index values"):
        x.index_select(1, mg.tensor([3]))
    with pytest.raises(ValueError, match="scatter: index"):
        x.scatter(1, mg.tensor([[0], [1], [2]]), mg.ones(3, 1))
    with pytest.raises(ValueError, match="masked_fill: a mask of shape"):
        x.masked_fill(mg.ones(3, 3) > 0, 1.0)
    with pytest.raises(ValueError, match="tril: input tensor must have at least 2 dimensions"):
        mg.ones(3).tril()
    with pytest.raises(ValueError, match="expand: the expanded size 3 must match"):
        x.expand(3, 3)
    with pytest.raises(ValueError, match="topk: k"):
        x.topk(4)
    with pytest.raises(IndexError, match="narrow: start"):
        x.narrow(1, 2, 2)
    with pytest.raises(TypeError, match="scatter: pass exactly one of src and value"):
        x.scatter(1, mg.tensor([[0]]))
    with pytest.raises(TypeError, match="prod: dim must be an int or None"):
        x.prod((0, 1))
    with pytest.raises(ValueError, match="einsum: subscript 'j' has sizes 3 and 2"):
        mg.einsum("ij,jk->ik", x, x)


@pytest.mark.parametrize("call", [
    lambda m, x: m.split(x, 2, 1), lambda m, x: m.split(x, [1, 3], 1), lambda m, x: m.chunk(x, 3, 1),
    lambda m, x: m.chunk(x, 2, 0), lambda m, x: m.chunk(x[:, :0], 3, 1), lambda m, x: x.flip([0, 1]),
    lambda m, x: m.roll(x, 3),
    lambda m, x: x.repeat(2, 1, 1), lambda m, x: x.unflatten(1, (2, 2)), lambda m, x: x.T,
    lambda m, x: m.repeat_interleave(x, 2), lambda m, x: m.nonzero(x > 2),
    lambda m, x: m.flatten(x), lambda m, x: x.expand(3, 2, 4), lambda m, x: m.tril(x, 1),
    lambda m, x: m.isclose(x, x + 1e-9), lambda m, x: m.all(x > 0, 1), lambda m, x: m.any(x > 6),
    lambda m, x: m.dot(x[0], x[1]), lambda m, x: m.mm(x, x.T), lambda m, x: m.bmm(x[None], x.T[None]),
])
def test_shape_and_index_helpers_match_torch(call):
    x, xt = both(np.arange(8.0).reshape(2, 4))
    ours, theirs = call(mg, x), call(torch, xt)
    ours, theirs = (ours, theirs) if isinstance(ours, tuple) else ((ours,), (theirs,))
    assert len(ours) == len(theirs)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.numpy(), t.numpy())


def test_equal_and_allclose_return_python_bools():
    x = mg.tensor([1.0, 2.0])
    assert mg.equal(x, mg.tensor([1.0, 2.0])) is True and mg.equal(x, mg.tensor([1.0])) is False
    assert mg.allclose(x, x + 1e-9) is True and x.allclose(x + 1) is False


def test_the_pytorch_tutorial_accuracy_and_flatten_lines_run_unchanged():
    """From PyTorch's "Training a classifier": ``torch`` replaced by ``mg``, nothing else."""
    outputs = mg.tensor([[0.1, 2.0, -1.0], [3.0, 0.5, 0.2], [0.0, 0.0, 1.0]])
    labels = mg.tensor([1, 0, 2])
    _, predicted = mg.max(outputs, 1)
    correct = (predicted == labels).sum().item()
    assert correct == 3 and predicted.dtype == mg.long
    assert mg.flatten(mg.ones(2, 3, 4), 1).shape == (2, 12)
    assert outputs.argmax(dim=1).tolist() == predicted.tolist()


def test_sign_of_nan_is_zero_and_atan2_at_the_origin_has_zero_gradient_as_torch():
    x, xt = both([np.nan, -0.0, 0.0, np.inf, -np.inf, -3.0])
    np.testing.assert_array_equal(x.sign().numpy(), xt.sign().numpy())
    a, at = both([0.0, 1.0], requires_grad=True)
    b, bt = both([0.0, -2.0], requires_grad=True)
    a.atan2(b).sum().backward()
    torch.atan2(at, bt).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), **CLOSE)
    np.testing.assert_allclose(b.grad.numpy(), bt.grad.numpy(), **CLOSE)


@pytest.mark.parametrize("dtypes", [(np.int64, np.float32), (np.float16, np.float32), (np.int32, np.int64),
                                    (np.bool_, np.int64), (np.float32, np.float64)])
def test_cat_stack_where_promote_dtypes_as_torch(dtypes):
    pairs = [both(np.ones(2), dtype=d) for d in dtypes]
    (a, at), (b, bt) = pairs
    cond, cond_t = mg.tensor([True, False]), torch.tensor([True, False])
    for ours, theirs in [(mg.cat([a, b]), torch.cat([at, bt])), (mg.stack([a, b]), torch.stack([at, bt])),
                         (mg.where(cond, a, b), torch.where(cond_t, at, bt))]:
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")


def test_joins_send_each_gradient_back_in_its_inputs_dtype():
    half, single = np.ones(2, np.float16), np.ones(2, np.float32)
    for op, inputs in [(join.Cat, (half, single)), (join.Stack, (half, single)),
                       (join.Where, (np.array([True, False]), half, single))]:
        y, saved = op.forward(*inputs)
        assert y.dtype == np.float32
        grads = op.vjp(np.ones_like(y), saved, (True,) * len(inputs))
        assert [g.dtype for g in grads if g is not None] == [np.float16, np.float32]


@pytest.mark.parametrize("call", [
    lambda x: x.prod(0), lambda x: x.cumsum(0), lambda x: x.cumprod(-1), lambda x: x.logsumexp(0),
    lambda x: x.sort(0).values, lambda x: x.topk(1).values, lambda x: x.max(0).values,
    lambda x: x.min(-1).values, lambda x: x.flip(0), lambda x: x.roll(1), lambda x: x.repeat(2),
])
def test_zero_dimensional_tensors_reduce_and_move_as_torch(call):
    x, xt = both(3.0, requires_grad=True)
    ours, theirs = call(x), call(xt)
    np.testing.assert_array_equal(ours.numpy(), theirs.detach().numpy())
    assert ours.shape == tuple(theirs.shape)
    ours.sum().backward()
    theirs.sum().backward()
    assert x.grad.item() == xt.grad.item()
