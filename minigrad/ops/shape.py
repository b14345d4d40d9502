"""Ops that move elements without changing them: reshapes, permutations, indexing, padding."""
from __future__ import annotations

import numpy as np

from minigrad.ops.base import Op, register
from minigrad.ops.elementwise import unbroadcast
from minigrad.ops.reduce import normalize_dim, normalize_dims


class _Reshaping(Op):
    """Ops whose output is x with another shape; the VJP reshapes g back to x's shape."""

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (g.reshape(saved),)


def _reshape(name: str, x: np.ndarray, shape: tuple) -> np.ndarray:
    try:
        return x.reshape(shape)
    except ValueError:
        raise ValueError(f"{name}: shape {tuple(shape)} is invalid for an input of size "
                         f"{x.size} (input shape {x.shape})") from None


@register("reshape")
class Reshape(_Reshaping):
    """y = x with ``shape`` (one entry may be -1); also serves ``view``."""

    @staticmethod
    def forward(x, *, shape):
        return _reshape("reshape", x, shape), x.shape


@register("flatten")
class Flatten(_Reshaping):
    """y = x with dims ``start_dim``..``end_dim`` merged into one."""

    @staticmethod
    def forward(x, *, start_dim=0, end_dim=-1):
        if x.ndim == 0:
            return x.reshape(1), x.shape
        start = normalize_dim("flatten", start_dim, x.ndim)
        end = normalize_dim("flatten", end_dim, x.ndim)
        if start > end:
            raise ValueError(f"flatten: start_dim ({start_dim}) comes after end_dim ({end_dim}) "
                             f"for an input of shape {x.shape}")
        shape = x.shape[:start] + (int(np.prod(x.shape[start:end + 1])),) + x.shape[end + 1:]
        return x.reshape(shape), x.shape


@register("unsqueeze")
class Unsqueeze(_Reshaping):
    """y = x with a new dimension of size 1 at ``dim``."""

    @staticmethod
    def forward(x, *, dim):
        return np.expand_dims(x, normalize_dim("unsqueeze", dim, x.ndim + 1)), x.shape


@register("squeeze")
class Squeeze(_Reshaping):
    """y = x without the size-1 dimensions among ``dim`` (all of them when None)."""

    @staticmethod
    def forward(x, *, dim=None):
        axes = normalize_dims("squeeze", dim, x.ndim)
        return np.squeeze(x, tuple(a for a in axes if x.shape[a] == 1)), x.shape


@register("permute")
class Permute(Op):
    """y = x with its dimensions reordered: y.shape[i] = x.shape[dims[i]]."""

    @staticmethod
    def forward(x, *, dims):
        axes = tuple(normalize_dim("permute", d, x.ndim) for d in dims)
        if sorted(axes) != list(range(x.ndim)):
            raise ValueError(f"permute: dims {tuple(dims)} are not a permutation of the "
                             f"{x.ndim} dimensions of an input of shape {x.shape}")
        return np.transpose(x, axes), axes

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (np.transpose(g, np.argsort(saved)),)       # the inverse permutation


@register("transpose")
class Transpose(Op):
    """y = x with dimensions ``dim0`` and ``dim1`` swapped."""

    @staticmethod
    def forward(x, *, dim0, dim1):
        a, b = normalize_dim("transpose", dim0, x.ndim), normalize_dim("transpose", dim1, x.ndim)
        return np.swapaxes(x, a, b), (a, b)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (np.swapaxes(g, *saved),)


def is_basic_index(index) -> bool:
    """True when ``x[index]`` is a view: only ints, slices, None and Ellipsis."""
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


def _index(name: str, x: np.ndarray, index):
    try:
        return x[index]
    except IndexError as error:
        raise IndexError(f"{name}: index {index!r} is out of range for a tensor of shape "
                         f"{x.shape} ({error})") from None


@register("getitem")
class GetItem(Op):
    """y = x[index]: ints, slices, None, Ellipsis, integer and boolean arrays."""

    @staticmethod
    def forward(x, *, index):
        return _index("getitem", x, index), (x.shape, x.dtype, index)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        shape, dtype, index = saved
        gx = np.zeros(shape, dtype=dtype)
        if is_basic_index(index):
            gx[index] = g
        else:
            np.add.at(gx, index, g)                       # repeated indices add up
        return (gx,)


@register("setitem")
class SetItem(Op):
    """y = x with y[index] = v (v broadcast); backs ``x[index] = v`` and ``fill_``.

    With ``then``, the selection is ``x[index][then]``: ``index`` basic (a view), ``then`` the
    array part, PyTorch's order for an index mixing ints and arrays (see ``minigrad.tensor``).
    """

    @staticmethod
    def forward(x, v, *, index, then=None):
        y = x.copy()
        try:
            if then is None:
                y[index] = v
            else:
                y[index][then] = v                         # y[index] is a view of y
        except ValueError:
            raise ValueError(f"setitem: a value of shape {v.shape} cannot be assigned to the "
                             f"selection {_select(x, index, then).shape} of a tensor of "
                             f"shape {x.shape}") from None
        return y, (v.shape, index, then)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        v_shape, index, then = saved
        gx = g.copy()
        if then is None:
            gx[index] = 0                                  # overwritten elements get nothing
        else:
            gx[index][then] = 0
        return gx, unbroadcast(_select(g, index, then), v_shape)   # v was broadcast in


def _select(x: np.ndarray, index, then):
    """``x[index]``, then ``[then]`` when given, naming the op when out of range."""
    selected = _index("setitem", x, index)
    return selected if then is None else _index("setitem", selected, then)


@register("pad")
class Pad(Op):
    """Constant padding, PyTorch's ``pad`` order: (left, right) of the last dim, then the one before."""

    @staticmethod
    def forward(x, *, pad, value=0.0):
        if len(pad) % 2 or len(pad) // 2 > x.ndim:
            raise ValueError(f"pad: pad {tuple(pad)} must have an even length of at most "
                             f"2 * {x.ndim} for an input of shape {x.shape}")
        if any(p < 0 for p in pad):
            raise ValueError(f"pad: negative padding {tuple(pad)} is not supported")
        widths = [(0, 0)] * x.ndim
        for i in range(len(pad) // 2):
            widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
        return np.pad(x, widths, constant_values=value), widths

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        crop = tuple(slice(before, g.shape[i] - after) for i, (before, after) in enumerate(saved))
        return (g[crop],)


@register("expand")
class Expand(Op):
    """y = x broadcast to ``shape`` (-1 keeps a size; new dims go in front), as a new array.

    PyTorch returns a view; here the result is copied, so in-place changes of it stay legal.
    """

    @staticmethod
    def forward(x, *, shape):
        if len(shape) < x.ndim:
            raise ValueError(f"expand: the number of sizes provided ({len(shape)}) must be "
                             f"greater or equal to the number of dimensions of the input {x.shape}")
        lead = len(shape) - x.ndim
        target = tuple(x.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
        for i, n in enumerate(target):
            old = x.shape[i - lead] if i >= lead else 1
            if n < 0 or (old != 1 and old != n):
                raise ValueError(f"expand: the expanded size {n} must match the existing size "
                                 f"{old} at non-singleton dimension {i} (target {tuple(shape)}, "
                                 f"input {x.shape})")
        return np.array(np.broadcast_to(x, target)), x.shape

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (unbroadcast(g, saved),)                    # copies of x add their gradients up


@register("flip")
class Flip(Op):
    """y = x reversed along each of ``dims``."""

    @staticmethod
    def forward(x, *, dims):
        axes = normalize_dims("flip", dims, x.ndim)
        return np.flip(x, axes).copy(), axes

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        return (np.flip(g, saved),)


@register("roll")
class Roll(Op):
    """y = x shifted cyclically by ``shifts`` along ``dims`` (of the flattened x when None)."""

    @staticmethod
    def forward(x, *, shifts, dims=None):
        shifts = tuple(shifts) if isinstance(shifts, (tuple, list)) else (shifts,)
        if dims is None:
            if len(shifts) != 1:
                raise ValueError(f"roll: {len(shifts)} shifts need as many dims, got dims=None")
            return np.roll(x.reshape(-1), shifts[0]).reshape(x.shape), (shifts, None)
        axes = tuple(normalize_dim("roll", d, x.ndim)
                     for d in (dims if isinstance(dims, (tuple, list)) else (dims,)))
        if len(axes) != len(shifts):
            raise ValueError(f"roll: shifts {shifts} and dims {dims} must have the same length")
        return np.roll(x, shifts, axes), (shifts, axes)

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        shifts, axes = saved
        back = tuple(-s for s in shifts)                   # roll back by the same amount
        if axes is None:
            return (np.roll(g.reshape(-1), back[0]).reshape(g.shape),)
        return (np.roll(g, back, axes),)


@register("repeat")
class Repeat(Op):
    """y = x tiled ``repeats[i]`` times along dim i (new dims go in front): (s_i) -> (r_i s_i)."""

    @staticmethod
    def forward(x, *, repeats):
        if len(repeats) < x.ndim:
            raise ValueError(f"repeat: the number of repeat dims ({len(repeats)}) can not be "
                             f"smaller than the number of dimensions of the input {x.shape}")
        if any(r < 0 for r in repeats):
            raise ValueError(f"repeat: repeats {tuple(repeats)} must be non-negative")
        shape = (1,) * (len(repeats) - x.ndim) + x.shape
        return np.tile(x.reshape(shape), repeats), (x.shape, shape, tuple(repeats))

    @staticmethod
    def vjp(g, saved, needs_input_grad):
        x_shape, shape, repeats = saved
        tiles = g.reshape([n for r, s in zip(repeats, shape) for n in (r, s)])
        return (tiles.sum(axis=tuple(range(0, 2 * len(shape), 2))).reshape(x_shape),)  # sum the copies
