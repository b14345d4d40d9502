"""The backward engine: graph shapes, accumulation, modes, released graphs, versions."""
from __future__ import annotations

import weakref

import numpy as np
import pytest

import minigrad as mg
import minigrad.functional as F
from minigrad.ops.base import OPS, Op, register


def test_diamond_graph_sums_both_paths() -> None:
    x = mg.tensor(3.0, requires_grad=True)
    a = x * 2
    b = x * x
    (a + b).backward()                                # d/dx (2x + x^2) = 2 + 2x
    assert x.grad.item() == pytest.approx(8.0)


def test_shared_intermediate_node_runs_its_vjp_once_with_summed_gradient(monkeypatch) -> None:
    calls = []
    exp_vjp = OPS["exp"].vjp
    monkeypatch.setattr(OPS["exp"], "vjp", staticmethod(lambda g, s, n: calls.append(g) or exp_vjp(g, s, n)))
    x = mg.tensor([0.5, -1.0], requires_grad=True)
    e = x.exp()
    (e * 2 + e * 3).sum().backward()
    assert len(calls) == 1
    np.testing.assert_allclose(x.grad.numpy(), 5 * np.exp([0.5, -1.0]), rtol=1e-6)


def test_gradients_accumulate_across_two_backward_calls() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3 + 2, 3 + 4])


def test_leaf_used_twice_in_one_op_gets_both_contributions() -> None:
    x = mg.tensor([2.0], requires_grad=True)
    (x * x).sum().backward()
    assert x.grad.item() == 4.0


def test_chain_of_100000_ops_backpropagates_without_recursion() -> None:
    x = mg.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.backward()
    assert x.grad.item() == 1.0
    assert y.item() == 100_001.0


def test_no_grad_records_nothing_and_restores_the_mode() -> None:
    x = mg.ones(2, requires_grad=True)
    with mg.no_grad():
        y = x * 2
        assert not mg.is_grad_enabled()
        with mg.enable_grad():
            z = x * 2
    assert mg.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert z.grad_fn is not None and z.grad_fn.name == "mul"


def test_no_grad_works_as_a_decorator() -> None:
    @mg.no_grad()
    def double(t):
        return t * 2

    assert double(mg.ones(2, requires_grad=True)).grad_fn is None
    assert mg.is_grad_enabled()


def test_backward_twice_raises_and_names_retain_graph() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_in_place_change_of_a_saved_tensor_raises_naming_op_and_versions() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = (h * h).sum()
    h.add_(1)
    with pytest.raises(RuntimeError, match=r"mul: .*version 0 when saved, version 1 now"):
        y.backward()


def test_in_place_change_of_a_saved_output_raises() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    e = x.exp()                                        # exp saves its output
    e.mul_(2)
    with pytest.raises(RuntimeError, match="exp: a tensor saved for backward was modified"):
        e.sum().backward()


def test_in_place_on_a_tensor_nobody_saved_is_differentiable() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x + 0                                          # add saves only shapes
    h.mul_(3)
    h.add_(x)
    h.sum().backward()                                 # d/dx (3x + x) = 4
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 4.0])
    assert h._version == 2


def test_setitem_is_differentiable_for_both_tensor_and_value() -> None:
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    v = mg.tensor([10.0], requires_grad=True)
    h = x * 2
    h[0] = v
    (h * mg.tensor([[1.0, 2.0], [3.0, 4.0]])).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0, 0], [6, 8]])
    np.testing.assert_allclose(v.grad.numpy(), [3.0])


def test_in_place_on_a_leaf_that_requires_grad_raises_unless_no_grad() -> None:
    w = mg.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="add_: a leaf tensor that requires grad"):
        w.add_(1)
    with mg.no_grad():
        w.add_(1)
    assert w._version == 1 and w.numpy().tolist() == [2, 2, 2]


def test_in_place_on_a_view_while_recording_raises() -> None:
    x = mg.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match="view"):
        (x * 1)[0].mul_(2)


def test_views_share_the_version_counter_of_their_base() -> None:
    base = mg.zeros(2, 3)
    view = base.reshape(6)
    view.add_(1)
    assert base._version == 1
    assert base.numpy().sum() == 6


def test_non_scalar_backward_without_gradient_raises_naming_the_shape() -> None:
    y = mg.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"scalar outputs.*\(2, 3\)"):
        y.backward()
    y.backward(mg.ones(2, 3))


def test_backward_with_wrong_gradient_shape_raises() -> None:
    y = mg.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\).*\(2, 3\)"):
        y.backward(mg.ones(3))


def test_backward_on_tensor_without_grad_raises() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.ones(1).backward()


def test_retain_grad_keeps_an_intermediate_gradient() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [6.0, 12.0])
    assert (x * 3).grad is None


def test_detach_shares_memory_and_leaves_the_graph() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert d.is_leaf and not d.requires_grad
    y = x * 2
    np.testing.assert_array_equal(d.numpy(), y.numpy())


def test_only_leaves_can_change_requires_grad() -> None:
    y = mg.ones(2, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_detect_anomaly_names_the_op_in_forward_and_backward() -> None:
    with mg.detect_anomaly():
        with pytest.raises(RuntimeError, match="forward of 'log'"):
            mg.tensor([-1.0], requires_grad=True).log()
        x = mg.tensor([0.0], requires_grad=True)
        y = x.sqrt()                                    # fine forward, infinite gradient
        with pytest.raises(RuntimeError, match="backward of 'sqrt'.*input 0"):
            y.sum().backward()


def test_a_gradient_that_stops_early_does_not_block_other_paths() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    const = mg.tensor([5.0, 5.0])
    a = (x * 0 + const) ** 2                            # both paths meet at one node
    (a + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1 + 0.0, 1 + 0.0])


def test_a_user_defined_op_is_registered_and_differentiated() -> None:
    @register("test_cube")
    class Cube(Op):
        """y = x^3."""

        @staticmethod
        def forward(x):
            return x ** 3, x

        @staticmethod
        def vjp(g, saved, needs_input_grad):
            return (3 * saved ** 2 * g,)

    try:
        x = mg.tensor([2.0], dtype=np.float64, requires_grad=True)
        assert mg.gradcheck(lambda t: Cube.apply(t), [x])
        assert Cube.apply(x).grad_fn.name == "test_cube"
        with pytest.raises(ValueError, match="already registered"):
            register("test_cube")(Cube)
    finally:
        OPS.pop("test_cube")


class _Twice(Op):
    """Test op: y = 2x, whose vjp hands out the array that ``source(g, saved)`` returns."""

    source = None

    @staticmethod
    def forward(x):
        return 2 * x, x

    @classmethod
    def vjp(cls, g, saved, needs_input_grad):
        return (cls.source(g, saved),)


def _twice_with(source):
    return type("Twice", (_Twice,), {"source": staticmethod(source)})


def _spy_on_accumulation(leaf) -> list:
    """Record (array, owned) of every ``_accumulate_grad`` call the engine makes on ``leaf``."""
    calls, accumulate = [], leaf._accumulate_grad

    def spy(g, owned):
        calls.append((g, owned))
        accumulate(g, owned)
    leaf._accumulate_grad = spy
    return calls


def test_a_leaf_keeps_the_sum_the_engine_made_when_gradients_met() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    calls = _spy_on_accumulation(x)
    (x * 2 + x * 3 + x * 4).backward(np.array([1.0, 1.0]))
    [(g, owned)] = calls                            # three gradients, one call with their sum
    assert owned and x.grad.data is g
    np.testing.assert_allclose(x.grad.numpy(), [9.0, 9.0])


def test_a_leaf_copies_the_one_gradient_a_vjp_returned() -> None:
    made = []

    def fresh(g, saved):
        made.append(2 * g)
        return made[-1]
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    calls = _spy_on_accumulation(x)
    _twice_with(fresh).apply(x).backward(np.array([1.0, 1.0]))
    assert calls[0][1] is False                      # the engine cannot know who else holds it
    assert not np.shares_memory(x.grad.data, made[0])
    made[0][...] = -1                                # what the vjp does with it later
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_a_leaf_copies_a_gradient_array_someone_else_holds() -> None:
    held = np.array([5.0, 5.0])
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    op = _twice_with(lambda g, saved: held)
    op.apply(x).backward(np.array([1.0, 1.0]))
    op.apply(x).backward(np.array([1.0, 1.0]))                # accumulates into x.grad
    np.testing.assert_allclose(x.grad.numpy(), [10.0, 10.0])
    np.testing.assert_allclose(held, [5.0, 5.0])


def test_leaves_never_share_the_incoming_or_a_repeated_gradient_array() -> None:
    user_gradient = np.array([1.0, 1.0])
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    _twice_with(lambda g, saved: g).apply(x).backward(user_gradient)     # passes g through
    assert not np.shares_memory(x.grad.data, user_gradient)

    a, b = mg.tensor([1.0, 2.0], requires_grad=True), mg.tensor([3.0, 4.0], requires_grad=True)
    (a + b).backward(np.array([1.0, 1.0]))                    # add sends g to both inputs
    assert not np.shares_memory(a.grad.data, b.grad.data)


def test_a_gradient_that_is_also_saved_is_copied_while_the_graph_is_retained() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = _twice_with(lambda g, saved: saved).apply(x)          # hands out its saved input
    y.backward(np.array([1.0, 1.0]), retain_graph=True)
    assert not np.shares_memory(x.grad.data, x.data)
    y.backward(np.array([1.0, 1.0]))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])
    np.testing.assert_allclose(x.numpy(), [1.0, 2.0])


class _Releasing(Op):
    """Test op: y = 2x that logs every ``release`` of its saved value."""

    released: list = []

    @staticmethod
    def forward(x):
        return 2 * x, "saved"

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        assert saved == "saved"
        return (2 * g,)

    @classmethod
    def release(cls, saved):
        cls.released.append(saved)


def test_release_runs_once_when_backward_frees_the_saved_values() -> None:
    _Releasing.released = []
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = _Releasing.apply(x).sum()
    assert _Releasing.released == []                       # recorded: kept for backward
    y.backward(retain_graph=True)
    assert _Releasing.released == []                       # retained: still needed
    y.backward()
    assert _Releasing.released == ["saved"]
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 4.0])


def test_release_runs_right_after_forward_when_no_node_is_recorded() -> None:
    _Releasing.released = []
    _Releasing.apply(mg.tensor([1.0]))                     # no input requires grad
    with mg.no_grad():
        _Releasing.apply(mg.tensor([1.0], requires_grad=True))
    assert _Releasing.released == ["saved", "saved"]


def test_vjp_gets_needs_input_grad_one_bool_per_input(monkeypatch) -> None:
    seen = []
    mul_vjp = OPS["mul"].vjp
    monkeypatch.setattr(OPS["mul"], "vjp",
                        staticmethod(lambda g, s, n: seen.append(n) or mul_vjp(g, s, n)))
    (mg.tensor([1.0], requires_grad=True) * mg.tensor([2.0])).backward()
    assert seen == [(True, False)]


def test_the_engine_reexports_the_op_base_names() -> None:
    import minigrad.autograd
    import minigrad.ops.base
    assert (minigrad.autograd.Op, minigrad.autograd.register, minigrad.autograd.OPS) == (
        minigrad.ops.base.Op, minigrad.ops.base.register, minigrad.ops.base.OPS)


def test_grad_and_anomaly_modes_are_per_thread() -> None:
    import threading

    inside, done, seen = threading.Event(), threading.Event(), {}

    def other_thread():
        with mg.no_grad(), mg.detect_anomaly():
            inside.set()
            done.wait(5)
            seen["grad"] = mg.is_grad_enabled()
            seen["records"] = (mg.tensor([1.0], requires_grad=True) * 2).requires_grad

    worker = threading.Thread(target=other_thread)
    worker.start()
    assert inside.wait(5)
    assert mg.is_grad_enabled()                             # the other thread's no_grad
    assert (mg.tensor([1.0], requires_grad=True) * 2).grad_fn is not None
    mg.tensor([np.nan], requires_grad=True) * 2             # NaN, but no anomaly mode here
    done.set()
    worker.join(5)
    assert seen == {"grad": False, "records": False}
    with mg.no_grad():                                      # a new thread starts with the defaults
        fresh = []
        t = threading.Thread(target=lambda: fresh.append(mg.is_grad_enabled()))
        t.start()
        t.join(5)
    assert fresh == [True]


def test_op_apply_before_the_tensor_layer_is_loaded_says_so(monkeypatch) -> None:
    import minigrad.ops.base as base

    monkeypatch.setattr(base, "_apply", None)
    with pytest.raises(RuntimeError, match="mul.apply: the tensor layer is not loaded"):
        OPS["mul"].apply(mg.ones(1), mg.ones(1))


def test_in_place_operators_change_the_tensor_and_bump_its_version() -> None:
    x = mg.tensor([1.0, 2.0])
    alias = x
    x += 1
    x -= mg.tensor([0.5, 0.5])
    x *= 4
    x /= 2
    x **= 2
    assert x is alias and x._version == 5
    np.testing.assert_allclose(x.numpy(), [9.0, 25.0])
    w = mg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w -= 1
    i = mg.tensor([1, 2])
    with pytest.raises(TypeError, match="result type float32 can't be cast to the desired output type int64"):
        i /= 2


def test_micrograd_style_loop_with_in_place_updates_trains() -> None:
    x = mg.tensor([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    target = mg.tensor([1.0, 1.0, 2.0, 0.0])
    w, b = mg.zeros(2, requires_grad=True), mg.zeros(1, requires_grad=True)
    losses = []
    for _ in range(50):
        loss = (((x @ w + b) - target) ** 2).mean()
        losses.append(loss.item())
        w.grad = b.grad = None
        loss.backward()
        with mg.no_grad():
            for p in (w, b):
                p -= 0.3 * p.grad
    assert losses[-1] < 1e-3 < losses[0]
    np.testing.assert_allclose(w.numpy(), [1.0, 1.0], atol=0.05)


@pytest.mark.parametrize("make", [
    lambda x: F.conv2d(x.reshape(1, 2, 2, 1), mg.ones(1, 1, 1, 2)),
    lambda x: x.reshape(2, 2).sum(dim=0),
    lambda x: x.reshape(2, 2).amax(dim=1),
], ids=["conv2d", "sum_dim0", "amax_dim"])
def test_in_place_on_an_op_output_that_is_not_a_view_is_allowed(make) -> None:
    x = mg.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    y = make(x)
    y.mul_(2)
    y.sum().backward()
    assert x.grad is not None and np.abs(x.grad.numpy()).sum() > 0


def test_multiplying_or_dividing_by_a_constant_saves_nothing_of_the_tensor() -> None:
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1
    z = y * 2.0 + y / 4.0
    y.add_(1)                                          # PyTorch allows it: mul saved only 2.0
    z.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.25, 2.25])
    w = mg.tensor([3.0, 3.0], requires_grad=True)
    z = y * w                                          # now y is needed for w's gradient
    y.add_(1)
    with pytest.raises(RuntimeError, match="mul: a tensor saved for backward was modified"):
        z.sum().backward()


def test_writes_through_tensor_methods_are_detected_but_not_through_numpy_arrays() -> None:
    """What the version counter sees (docs/decisions.md, "numpy()"): in-place methods,
    operators and ``t[i] = v`` bump it; a write into the array from ``numpy()``,
    ``np.asarray(t)`` or ``from_numpy``'s source is invisible, and backward uses the new values."""
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = (h * h).sum()
    h[0] = 5.0
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    h = x * 1
    y = (h * h).sum()
    h.numpy()[:] = [10.0, 20.0]                       # not detected: NumPy has no hook for it
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 40.0])   # 2h with the new h


def test_matmul_and_linear_keep_an_input_only_for_the_other_inputs_gradient() -> None:
    x = mg.tensor([[1.0, 2.0]], requires_grad=True)
    h = x * 1
    frozen = mg.tensor([[1.0], [1.0]])
    y = (h @ frozen).sum() + F.linear(h, frozen).sum()
    h.mul_(3)                                          # PyTorch allows it: only `frozen` was saved
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[2.0, 2.0]])
    w = mg.tensor([[1.0], [1.0]], requires_grad=True)
    y = F.linear(h, w).sum()
    h.mul_(3)
    with pytest.raises(RuntimeError, match="linear: a tensor saved for backward was modified"):
        y.backward()
