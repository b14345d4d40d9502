"""Tensor construction, dtypes, creation functions, conversions and user-facing errors."""
from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F


@pytest.fixture
def float64_default():
    mg.set_default_dtype(np.float64)
    yield
    mg.set_default_dtype(np.float32)


def test_python_floats_take_the_default_dtype_and_arrays_keep_theirs(float64_default) -> None:
    assert mg.tensor([1.0, 2.0]).dtype == np.float64
    mg.set_default_dtype(np.float32)
    assert mg.tensor([1.0, 2.0]).dtype == np.float32
    assert mg.tensor(np.zeros(2, np.float64)).dtype == np.float64
    assert mg.tensor([1, 2]).dtype == np.int64
    assert mg.tensor([True]).dtype == np.bool_


def test_tensor_copies_and_from_numpy_shares_memory() -> None:
    a = np.zeros(3, np.float32)
    copied, shared = mg.tensor(a), mg.from_numpy(a)
    a[0] = 5
    assert copied.numpy()[0] == 0 and shared.numpy()[0] == 5


def test_scalars_do_not_promote_float32_tensors() -> None:
    x = mg.ones(3)
    for y in (x * 2.5, 2.5 + x, x / 3, 1 - x, x ** 2, 2.0 ** x, x.maximum(0.5)):
        assert y.dtype == np.float32


def test_numpy_arrays_on_the_left_defer_to_tensor() -> None:
    y = np.ones(3, np.float32) + mg.ones(3, requires_grad=True)
    assert isinstance(y, mg.Tensor) and y.grad_fn.name == "add"


def test_integer_tensors_cannot_require_grad() -> None:
    with pytest.raises(RuntimeError, match="only floating-point tensors can require grad.*int64"):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating-point"):
        mg.arange(3, requires_grad=True)


def test_creation_functions_accept_varargs_or_a_tuple() -> None:
    assert mg.zeros(2, 3).shape == mg.zeros((2, 3)).shape == (2, 3)
    assert mg.ones([4]).numpy().tolist() == [1, 1, 1, 1]
    assert mg.full((2,), 7).dtype == np.int64 and mg.full((2,), 0.5).dtype == np.float32
    assert mg.eye(3).numpy().trace() == 3
    assert mg.arange(5).dtype == np.int64 and mg.arange(0, 1, 0.25).shape == (4,)
    assert mg.zeros_like(mg.ones(2, dtype=np.float64)).dtype == np.float64
    assert mg.randn(2, 3, requires_grad=True).requires_grad
    with pytest.raises(ValueError, match=r"zeros: negative dimension in shape \(2, -1\)"):
        mg.zeros(2, -1)


def test_manual_seed_repeats_random_tensors() -> None:
    mg.manual_seed(7)
    a = mg.randn(4).numpy().copy(), mg.rand(2).numpy().copy()
    mg.manual_seed(7)
    b = mg.randn(4).numpy(), mg.rand(2).numpy()
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_float_double_to_are_differentiable_and_keep_input_dtype_for_grads() -> None:
    x = mg.ones(2, requires_grad=True)
    y = x.double()
    assert y.dtype == np.float64 and y.grad_fn.name == "to"
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert x.float() is x


def test_item_tolist_len_and_repr() -> None:
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    assert x.tolist() == [[1.0, 2.0]] and len(x) == 1 and x.numel() == 2
    assert repr(x) == "tensor([[1., 2.]], requires_grad=True)"
    assert "grad_fn=<mul>" in repr(x * 2)
    with pytest.raises(ValueError, match=r"item: only one-element tensors.*\(1, 2\)"):
        x.item()


def test_comparisons_return_bool_tensors_without_grad() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    mask = x > 1.5
    assert mask.dtype == np.bool_ and not mask.requires_grad
    assert mask.tolist() == [False, True]


def test_shape_methods() -> None:
    x = mg.zeros(2, 3, 4)
    assert x.permute(2, 0, 1).shape == (4, 2, 3)
    assert x.transpose(0, 2).shape == (4, 3, 2)
    assert x.flatten().shape == (24,) and x.flatten(1).shape == (2, 12)
    assert x.unsqueeze(0).shape == (1, 2, 3, 4) and x.unsqueeze(-1).shape == (2, 3, 4, 1)
    assert x.reshape(1, 6, 4).squeeze(0).shape == (6, 4)
    assert x.squeeze(1).shape == (2, 3, 4)          # not size 1: unchanged, as in PyTorch
    assert F.pad(x, (1, 1, 2, 0)).shape == (2, 5, 6)


def test_amax_splits_the_gradient_evenly_among_ties() -> None:
    x = mg.tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True)
    x.amax(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0.5, 0.5], [0.5, 0, 0.5]])


def test_maximum_splits_ties_in_half() -> None:
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([1.0, 0.0], requires_grad=True)
    a.maximum(b).sum().backward()
    assert a.grad.tolist() == [0.5, 1.0] and b.grad.tolist() == [0.5, 0.0]


@pytest.mark.parametrize("make, message", [
    (lambda: mg.ones(2, 3) + mg.ones(4), r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast"),
    (lambda: mg.ones(2, 3) @ mg.ones(4, 5), r"matmul: shapes \(2, 3\) and \(4, 5\).*\(3 != 4\)"),
    (lambda: mg.ones(2, 3, 4) @ mg.ones(5, 4, 2), r"matmul: batch dimensions"),
    (lambda: mg.ones(2, 3).reshape(4, 2), r"reshape: shape \(4, 2\) is invalid.*size 6"),
    (lambda: mg.ones(2, 3).sum(dim=2), r"sum: dimension out of range.*\[-2, 1\].*got 2"),
    (lambda: mg.ones(2, 3).permute(0, 0), r"permute: dims \(0, 0\) are not a permutation"),
    (lambda: mg.ones(2, 3)[5], r"getitem: index 5 is out of range.*\(2, 3\)"),
    (lambda: F.pad(mg.ones(2), (1, 2, 3)), r"pad: pad \(1, 2, 3\) must have an even length"),
    (lambda: mg.ones(2).clamp(), r"clamp: at least one of min and max"),
    (lambda: mg.ones(2).flatten(1, 0), r"dimension out of range"),
])
def test_bad_input_gets_a_clear_error_naming_the_function(make, message) -> None:
    with pytest.raises((ValueError, IndexError), match=message):
        make()


def test_setitem_with_a_mismatched_value_names_both_shapes() -> None:
    x = mg.zeros(2, 3)
    with pytest.raises(ValueError, match=r"setitem: a value of shape \(2,\).*\(3,\)"):
        x[0] = mg.ones(2)


def test_unsupported_data_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="Tensor: cannot make a tensor"):
        mg.tensor(["a", "b"])


def test_set_default_dtype_rejects_integers() -> None:
    with pytest.raises(TypeError, match="set_default_dtype: only floating dtypes"):
        mg.set_default_dtype(np.int32)


I3, I2 = np.array([0, 2, 1]), np.array([0, 1, 1])
B5 = np.array([True, False, True, True, False])
MIXED_INDICES = [
    (1, slice(None), slice(3, 11, 2), I3, slice(0, 2)),        # the example
    (slice(None), 1, slice(None), I3, slice(0, 2)),
    (slice(None), 1, slice(None), I3, 1),
    (I2, 1, slice(None), I3, 1),                               # two arrays, not adjacent
    (Ellipsis, I3, 1),
    (1, Ellipsis, I3, None, 1),
    (1, None, slice(None), slice(None), B5),                   # a bool mask and None
    (I2, slice(None), 0),
    (0, I3, slice(None), I3),
    (None, 1, I3),
]


@pytest.mark.parametrize("index", MIXED_INDICES, ids=str)
def test_mixed_int_and_array_indexing_follows_torch_axis_order_forward_and_backward(index) -> None:
    import torch

    data = np.random.default_rng(0).standard_normal((2, 3, 12, 5, 4))
    x, t = mg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    y = x[index]
    ty = t[tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in index)]
    assert y.shape == tuple(ty.shape)
    np.testing.assert_array_equal(y.numpy(), ty.detach().numpy())
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(g)
    ty.backward(torch.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_np_asarray_gives_the_data_following_numpy_2s_protocol() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    a = np.asarray(x)
    assert a.dtype == np.float32 and a.tolist() == [1.0, 2.0] and np.shares_memory(a, x.data)
    assert np.asarray(x, dtype=np.float64).dtype == np.float64
    assert not np.shares_memory(np.array(x, copy=True), x.data)
    with pytest.raises(ValueError, match="without a copy"):
        np.asarray(x, dtype=np.float64, copy=False)


def test_to_accepts_devices_dtypes_and_tensors_like_torch() -> None:
    x = mg.ones(2)
    assert x.to("cpu") is x and x.cpu() is x and str(x.device) == "cpu"
    assert repr(x.device) == "device(type='cpu')" and x.device == "cpu"
    assert x.to("cpu", np.float64).dtype == np.float64
    assert x.to(mg.zeros(1, dtype=np.float64)).dtype == np.float64
    assert x.to(dtype=np.float64, device="cpu").dtype == np.float64
    with pytest.raises(RuntimeError, match="CPU only.*cuda"):
        x.to("cuda")


def test_empty_reductions_follow_torch() -> None:
    empty = mg.zeros(4, 0, requires_grad=True)
    assert empty.sum(0).shape == (0,) and empty.sum(1).tolist() == [0, 0, 0, 0]
    assert np.isnan(empty.mean(1).numpy()).all() and empty.mean(0).shape == (0,)
    assert empty.amax(0).shape == (0,) and empty.amin(0).shape == (0,)
    for name in ("amax", "amin"):
        with pytest.raises(IndexError, match=rf"{name}\(\): Expected reduction dim 1 to have non-zero size"):
            getattr(empty, name)(1)
    empty.mean(1).sum().backward()
    assert empty.grad.shape == (4, 0)
    assert F.softmax(mg.zeros(2, 0), 1).shape == (2, 0) and F.log_softmax(mg.zeros(2, 0), 1).shape == (2, 0)


def test_cross_entropy_of_an_empty_batch_is_nan_and_of_no_classes_raises() -> None:
    assert np.isnan(F.cross_entropy(mg.zeros(0, 3), mg.tensor(np.zeros(0, np.int64))).item())
    with pytest.raises(IndexError, match="Target 0 is out of bounds"):
        F.cross_entropy(mg.zeros(2, 0), mg.tensor([0, 0]))


@pytest.mark.parametrize("index", MIXED_INDICES[:6], ids=str)
def test_setitem_with_mixed_int_and_array_index_follows_torch_axis_order(index) -> None:
    import torch

    data = np.zeros((2, 3, 12, 5, 4))
    x, t = mg.tensor(data), torch.tensor(data)
    torch_index = tuple(torch.tensor(i) if isinstance(i, np.ndarray) else i for i in index)
    value = np.arange(np.prod(t[torch_index].shape), dtype=np.float64).reshape(t[torch_index].shape)
    x[index] = value
    t[torch_index] = torch.tensor(value)
    np.testing.assert_array_equal(x.numpy(), t.numpy())




def test_floor_division_and_remainder_assignments_change_the_tensor_in_place() -> None:
    import torch

    values = [5.0, -7.0, 9.5, -0.5]
    quotient, remainder = mg.tensor(values), mg.tensor(values)
    aliases = (quotient, remainder)
    torch_quotient, torch_remainder = torch.tensor(values), torch.tensor(values)
    quotient //= 2.0
    remainder %= -2.0
    torch_quotient //= 2.0
    torch_remainder %= -2.0
    assert quotient is aliases[0] and remainder is aliases[1]
    assert quotient._version == 1 and remainder._version == 1
    np.testing.assert_array_equal(quotient.numpy(), torch_quotient.numpy())
    np.testing.assert_array_equal(remainder.numpy(), torch_remainder.numpy())
