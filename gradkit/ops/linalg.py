"""Matrix products (matmul, mm, bmm, mv, dot, outer) and vector norms.

Each kernel PyTorch has is one differentiable op: Dot, Mv, Mm, Bmm. ``matmul`` of a
batch is built from them as PyTorch 2.13 builds it (ATen's _matmul_impl), so the graph
shows the same nodes: a batch folded into rows for mm (View, MmBackward0,
UnsafeViewBackward0), or broadcast batches expanded and flattened for bmm. Which route
it takes depends, as in PyTorch, on requires_grad and on the memory layout (strides).
"""
import math

import numpy as np

from ..autograd.function import refresh_view
from ..autograd.grad_mode import _state
from .._tensor import Tensor
from ._base import _BOOL, Op, broadcast_error, kept_shape, normalize_dims
from .arithmetic import Mul
from .pointwise import where
from .shape import Clone, Expand, MatmulSqueeze, SqueezeDim, T, Transpose, UnsafeView, Unsqueeze, View
from .. import ops as _ops      # (partly initialised here; reshape is looked up when called)

_INF = float("inf")


# ------------------------------------------------------------- the product kernels
class Dot(Op):
    """1-D . 1-D (torch.dot)."""

    saved_names = ("self", "tensor")

    @staticmethod
    def forward(ctx, a, b):
        if a._data.dtype != b._data.dtype:        # dot checks dtypes before sizes
            raise RuntimeError(f"dot : expected both vectors to have same dtype, but found "
                               f"{a.dtype.scalar_name} and {b.dtype.scalar_name}")
        n, m = a._data.shape[0], b._data.shape[0]
        if n != m:
            raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same "
                               f"number of elements, but got {n} and {m} elements respectively")
        _refuse_bool("dot", a, always=True)
        _save_operands(ctx, a, b)
        # + 0: PyTorch's dot adds the products to a 0, so a single -0. product gives +0.
        return np.asarray(np.dot(a._data, b._data)) + 0

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors              # PyTorch's formulas: grad * tensor, self * grad
        need_a, need_b = ctx.needs_input_grad
        return (grad * b if need_a else None), (a * grad if need_b else None)


class Mv(Op):
    """matrix @ vector (torch.mv)."""

    saved_names = ("self", "vec")

    @staticmethod
    def forward(ctx, a, b):
        (rows, cols), n = a._data.shape, b._data.shape[0]
        if cols != n:
            raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{cols}), vec ({n})")
        if a._data.dtype != b._data.dtype:
            raise RuntimeError(f"addmv input tensors must have the same dtype, but got {b.dtype.scalar_name}, "
                               f"{a.dtype.scalar_name}, and {b.dtype.scalar_name}")
        _refuse_bool("addmv_impl_cpu", a, b)
        _save_operands(ctx, a, b)
        return a._data @ b._data

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors           # PyTorch's formulas: grad.ger(vec), self.t().mv(grad)
        need_a, need_b = ctx.needs_input_grad
        return (Mul.apply(View.apply(grad, (-1, 1)), b) if need_a else None,
                Mv.apply(T.apply(a, 0, 1), grad) if need_b else None)


class Mm(Op):
    """matrix @ matrix (torch.mm)."""

    saved_names = ("mat2", "self")           # PyTorch's order

    @staticmethod
    def forward(ctx, a, b):
        (r1, c1), (r2, c2) = a._data.shape, b._data.shape
        if c1 != r2:
            raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({r1}x{c1} and {r2}x{c2})")
        if a._data.dtype != b._data.dtype:
            raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {a.dtype.cpp_name} != "
                               f"{b.dtype.cpp_name}")
        _refuse_bool("addmm_impl_cpu_", a, b)
        need_a, need_b = _save_operands(ctx, a, b, mat2_first=True)
        if need_a or need_b:      # PyTorch's backward transposes its product for a column-major input
            ctx.column_major = need_a and _column_major(a._data), need_b and _column_major(b._data)
        return matrix_product(a._data, b._data)

    @staticmethod
    def backward(ctx, grad):
        b, a = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        a_column_major, b_column_major = ctx.column_major
        grad_a = grad_b = None
        if need_a:
            grad_a = (T.apply(Mm.apply(b, T.apply(grad, 0, 1)), 0, 1) if a_column_major
                      else Mm.apply(grad, T.apply(b, 0, 1)))
        if need_b:
            grad_b = (T.apply(Mm.apply(T.apply(grad, 0, 1), a), 0, 1) if b_column_major
                      else Mm.apply(T.apply(a, 0, 1), grad))
        return grad_a, grad_b


def matrix_product(a, b):
    """a @ b of numpy arrays, b a matrix (a's leading dims are rows), with the zero signs of PyTorch's CPU mm.

    With one term per sum (a is n x 1, b is 1 x p, both n and p above 1) PyTorch's gemm returns
    the products themselves, so 0. * -1. stays -0.; numpy's matmul adds them to +0. (+0. there).
    Other shapes (more terms, or a row or column: gemv) start from +0. in both libraries.
    """
    if a.shape[-1] == 1 and a.size > 1 and b.shape[-1] > 1:
        return a * b                    # (n, 1) * (1, p): the outer product, one rounding as gemm
    return a @ b


def _refuse_bool(kernel, a, b=None, always=False):
    """PyTorch's CPU products have no bool kernel; mm, mv and bmm return their empty
    (or zero-term, all False) results before they look for one."""
    if a._data.dtype == np.bool_ and (always or (a._data.size and b._data.size)):
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def _save_operands(ctx, a, b, mat2_first=False):
    """Each input's grad needs only the other input: save just those, in PyTorch's order."""
    need_a, need_b = ctx.needs_input_grad
    if mat2_first:
        ctx.save_for_backward(b if need_a else None, a if need_b else None)
    else:
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
    return need_a, need_b


def _column_major(array):
    rows, cols = array.shape
    item = array.itemsize
    return array.strides[0] == item and array.strides[1] == rows * item


class Bmm(Op):
    """A batch of matrix products (torch.bmm): (b, n, m) @ (b, m, p)."""

    saved_names = ("mat2", "self")

    @staticmethod
    def forward(ctx, a, b):
        (batch, _, m1), (_, m2, _) = a._data.shape, b._data.shape
        if b._data.shape[:2] != (batch, m1):
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{batch}, {m1}] "
                               f"but got: [{b._data.shape[0]}, {m2}].")
        if a._data.dtype != b._data.dtype:
            raise RuntimeError(f"expected scalar type {a.dtype.scalar_name} but found {b.dtype.scalar_name}")
        _refuse_bool("bmm", a, b)
        _save_operands(ctx, a, b, mat2_first=True)
        return np.matmul(a._data, b._data)

    @staticmethod
    def backward(ctx, grad):
        b, a = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (Bmm.apply(grad, Transpose.apply(b, 1, 2)) if need_a else None,
                Bmm.apply(Transpose.apply(a, 1, 2), grad) if need_b else None)


def bmm(a, b):
    """Batches of matrix products, (b, n, m) @ (b, m, p) (PyTorch's torch.bmm: 3-D tensors only)."""
    for name, t in (("batch1", a), ("batch2", b)):
        if t._data.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor")
    return Bmm.apply(a, b)


class UntrackedMatmul(Op):
    """Any a @ b in one numpy call, for when nothing is recorded (no graph to decompose)."""

    @staticmethod
    def forward(ctx, a, b):
        return np.asarray(np.matmul(a._data, b._data))


# ------------------------------------------------------------- matmul
def matmul(a, b):
    """a @ b, recorded as PyTorch records it: Dot, Mv, Mm, Unsqueeze-Mm-Squeeze, or for batches
    mm on folded rows or bmm on expanded batches (ATen's _matmul_impl)."""
    for name, position, value in (("input", 1, a), ("other", 2, b)):
        if not isinstance(value, Tensor):
            raise TypeError(f"matmul(): argument '{name}' (position {position}) must be Tensor, "
                            f"not {type(value).__name__}")
    na, nb = a._data.ndim, b._data.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    if _state.off_by is None:
        if a._view_of is not None:       # a view whose root changed since: its flags first
            refresh_view(a)
        if b._view_of is not None:
            refresh_view(b)
        tracked = a._requires_grad or b._requires_grad
    else:
        tracked = False
    if (not tracked and a._data.dtype == b._data.dtype != _BOOL and _fits(a._data.shape, b._data.shape)
            and (a._data.shape[-1] != 1 or na == 1 or nb == 1)):
        # (one term per sum between matrices: the route decides the zero signs, see matrix_product)
        return UntrackedMatmul.apply(a, b)
    if na <= 2 and nb <= 2:
        if na == 1:
            if nb == 1:
                return Dot.apply(a, b)
            return MatmulSqueeze.apply(Mm.apply(Unsqueeze.apply(a, 0), b), 0)
        return Mv.apply(a, b) if nb == 1 else Mm.apply(a, b)
    return _batch_matmul(a, b, a._requires_grad, b._requires_grad)


def _batch_matmul(a, b, a_requires_grad, b_requires_grad):
    """a @ b with a batch on one side at least: fold it into the rows of one mm, or bmm."""
    if _should_fold(a, b, a_requires_grad, b_requires_grad):
        return _folded_matmul(a, b)
    sa, sb = a._data.shape, b._data.shape
    if len(sa) == 3 and len(sb) == 3 and sa[0] != sb[0]:
        # a broadcast batch of one that needs a grad: squeezed, it folds (PyTorch's route; the flags are
        # the unsqueezed tensor's, which a view made under no_grad keeps in PyTorch)
        if sa[0] == 1 and a_requires_grad:
            return _folded_matmul(SqueezeDim.apply(a, 0), b)
        if sb[0] == 1 and b_requires_grad:
            return _folded_matmul(a, SqueezeDim.apply(b, 0))
    return _batched_matmul(a, b)


def _fits(sa, sb):
    """Whether a @ b can be computed at all (else the route PyTorch takes raises its own words)."""
    if sa[-1] != (sb[-2] if len(sb) > 1 else sb[0]):
        return False
    return all(x == y or x == 1 or y == 1 for x, y in zip(reversed(sa[:-2]), reversed(sb[:-2])))


def _should_fold(a, b, a_requires_grad, b_requires_grad):
    """PyTorch's should_fold: fold the batch of the bigger operand into the rows of one mm (or mv)."""
    na, nb = a._data.ndim, b._data.ndim
    big, small, small_tracked = ((a._data, nb, b_requires_grad) if na >= nb
                                 else (b._data.swapaxes(-1, -2), na, a_requires_grad))
    if big.ndim < 3 or small > 2:
        return False
    if small_tracked:
        return True       # one mm: the small operand's grad is never a batch of grads summed afterwards
    if na == 2:
        return False      # folding would need a transposed copy of the result
    if big.size == 0:
        return True
    strides, shape = big.strides, big.shape
    return all(strides[i] == strides[i + 1] * shape[i + 1] for i in range(big.ndim - 2))


def _folded_matmul(a, b):
    transpose = b._data.ndim > a._data.ndim          # matrix @ batch: (batch.mT @ matrix.t()).mT
    big = Transpose.apply(b, -2, -1) if transpose else a
    small = (T.apply(a, 0, 1) if a._data.ndim == 2 else a) if transpose else b
    rows_shape = big._data.shape[:-1]
    rows = _reshape(big, (math.prod(rows_shape), big._data.shape[-1]))
    if small._data.ndim == 1:
        return UnsafeView.apply(Mv.apply(rows, small), rows_shape)
    out = UnsafeView.apply(Mm.apply(rows, small), rows_shape + small._data.shape[1:])
    if not transpose:
        return out
    out = Transpose.apply(out, -2, -1)
    return out if out._data.flags.c_contiguous else Clone.apply(out, "C")       # .contiguous()


def _batched_matmul(a, b):
    sa, sb = a._data.shape, b._data.shape
    n = sa[-2] if len(sa) > 1 else 1
    m2, p = (sb[-2], sb[-1]) if len(sb) > 1 else (sb[0], 1)
    batch = _broadcast_batches(sa[:-2], sb[:-2])
    count = math.prod(batch)
    left = _reshape(Expand.apply(a, batch + (n, sa[-1])), (count, n, sa[-1]))
    if len(sb) == 1:
        right = Unsqueeze.apply(_reshape(Expand.apply(b, batch + (m2,)), (count, m2)), 2)
        product = SqueezeDim.apply(Bmm.apply(left, right), -1)
    else:
        right = _reshape(Expand.apply(b, batch + (m2, p)), (count, m2, p))
        product = Bmm.apply(left, right)
    return UnsafeView.apply(product, batch + sa[-2:-1] + sb[-1:] if len(sb) > 1 else batch + sa[-2:-1])


def _broadcast_batches(batch_a, batch_b):
    try:
        return tuple(np.broadcast_shapes(batch_a, batch_b))
    except ValueError:
        raise broadcast_error((np.broadcast_to(False, batch_a), np.broadcast_to(False, batch_b))) from None


def _reshape(x, shape):
    """x.reshape(shape): a view when the memory allows it (View), else a copy (Clone, UnsafeView)."""
    return View.apply(x, shape) if x._data.flags.c_contiguous else _ops.reshape(x, shape)


class Norm(Op):
    """‖x‖_p over ``dim`` (all elements by default): (Σ|x|^p)^(1/p); p = inf is max |x|, p = 0 counts non-zeros."""

    backward_name = "LinalgVectorNormBackward0"

    @staticmethod
    def forward(ctx, x, p, dim, keepdim):
        if x._data.dtype.kind != "f":
            raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as input. "
                               f"Got {x.dtype.scalar_name}")
        axes = normalize_dims(dim, x._data.ndim) if x._data.ndim else None
        size = x._data.size if axes is None else int(np.prod([x._data.shape[a] for a in axes], dtype=np.int64))
        if abs(p) == _INF and size == 0:
            raise RuntimeError(f"linalg.vector_norm cannot compute the {p} norm on an empty tensor because the "
                               "operation does not have an identity")
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        a = np.abs(x._data)
        if p == _INF:
            result = a.max(axis=axes, keepdims=keepdim)
        elif p == -_INF:
            result = a.min(axis=axes, keepdims=keepdim)
        elif p == 0:
            result = (a != 0).sum(axis=axes, keepdims=keepdim).astype(a.dtype)
        elif p == 1:
            result = a.sum(axis=axes, keepdims=keepdim)
        elif p == 2:
            result = np.sqrt((a * a).sum(axis=axes, keepdims=keepdim))
        else:
            result = (a ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)
        result = np.asarray(result, dtype=a.dtype)
        ctx.save_for_backward(x, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        # PyTorch's linalg_vector_norm_backward: the grad of |x| scaled per p, 0 where the norm is 0
        x, norm = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return None, None, None, None
        if not ctx.keepdim:           # line the reduced dims up with x, so that * broadcasts back
            shape = kept_shape(x.shape, ctx.axes)
            grad, norm = grad.reshape(shape), norm.reshape(shape)
        if p == 1:
            return x.sign() * grad, None, None, None
        if abs(p) == _INF:
            mask = (x.abs() == norm).to(x.dtype)
            count = mask.sum(dim=ctx.axes, keepdim=True) if ctx.axes is not None else mask.sum()
            return x.sign() * mask * (grad / count), None, None, None
        if p == 2:
            return x * where(norm == 0, 0.0, grad / norm), None, None, None
        if p < 1:        # |x|^(p-1) is infinite at 0: PyTorch takes 0 there
            scaled_x = x.sign() * where(x == 0, 0.0, x.abs() ** (p - 1))
            return scaled_x * grad * norm ** (1 - p), None, None, None
        scaled_x = x.sign() * x.abs() ** (p - 1)
        return scaled_x * where(norm == 0, 0.0, grad / norm ** (p - 1)), None, None, None


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):  # noqa: A002 - PyTorch's names
    """The p-norm of ``input`` (Tensor.norm / torch.norm): 2-norm of all elements by default."""
    if dtype is not None:
        input = input.to(dtype)
    if p == "fro":
        p = 2
    elif isinstance(p, str):
        raise NotImplementedError(f"gradkit's norm takes p='fro' or a number, not p={p!r} (PyTorch also has 'nuc').")
    if isinstance(dim, int):
        dim = (dim,)
    return Norm.apply(input, float(p), dim, keepdim)


def dot(input, other):  # noqa: A002
    """Dot product of two 1-D tensors (torch.dot): recorded as DotBackward0."""
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    n, m = input._data.shape[0], other._data.shape[0]
    if n != m:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{n}] and src [{m}] to have the same number "
                           f"of elements, but got {n} and {m} elements respectively")
    return Dot.apply(input, other)


def mv(input, vec):  # noqa: A002
    """Matrix times vector (torch.mv): recorded as MvBackward0."""
    if input._data.ndim == 0:       # PyTorch sizes its result from input.size(0) first
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}")
    rows, cols = input._data.shape
    if cols != vec._data.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({rows}), mat ({rows}x{cols}), vec ({vec._data.shape[0]})")
    return Mv.apply(input, vec)


def outer(input, vec2):  # noqa: A002
    """Outer product of two 1-D tensors (torch.outer, torch.ger): input as a column times vec2."""
    for name, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {t._data.ndim}-D")
    return Mul.apply(View.apply(input, (-1, 1)), vec2)
