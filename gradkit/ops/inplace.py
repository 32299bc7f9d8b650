"""In-place ops (add_, mul_, ..., x += y, x[i] = v), with PyTorch's rules.

- On a leaf that requires grad, while grad mode is on: an error (the leaf's
  value is what the gradient is about). Under ``no_grad`` it is allowed: that is
  how optimizers update weights.
- On a tracked tensor: the op is recorded out of place and the tensor takes the
  result's history ("rebases"), so backward still goes through it.
- Always: the version counter goes up, so a backward that needs the old value
  notices it was overwritten.
"""
import warnings

import numpy as np

from .._tensor import Tensor, _make
from ..autograd.function import _ambiguous_view_message, _no_grad_ctx, own_grad_fn, take_history
from ..autograd.grad_mode import _state
from ._base import replay_view
from .pointwise import MaskedFill
from .shape import (INTERNAL_OVERLAP_ERROR, Copy, CopySlices, CopySlicesOf, CopySlicesOfExpanded, FillWithTensor,
                    IndexPut, has_internal_overlap, index, split_key, whole, written_shape_error)

LEAF_ERROR = "a leaf Variable that requires grad is being used in an in-place operation."
VIEW_OF_LEAF_ERROR = "a view of a leaf Variable that requires grad is being used in an in-place operation."
INFERENCE_ERROR = ("Inplace update to inference tensor outside InferenceMode is not allowed.You can make a clone "
                   "to get a normal tensor before doing inplace update.")


EXPANDED_INDEX_PUT_WARNING = (
    "Use of index_put_ on expanded tensors is deprecated. Please clone() the tensor before performing this "
    "operation. This also applies to advanced indexing e.g. tensor[indices] = tensor")
EXPANDED_MASKED_FILL_WARNING = (
    "Use of masked_fill_ on expanded tensors is deprecated. Please clone() the tensor before performing this "
    "operation. This also applies to advanced indexing e.g. tensor[mask] = scalar")

_LEAF_HINT = ("\ngradkit hint: wrap the update in `with gk.no_grad():` (as optimizers do), or work on a copy "
              "made with .clone().")
OVERLAP_ERROR = ("unsupported operation: some elements of the input tensor and the written-to tensor refer to a "
                 "single memory location. Please clone() the tensor before performing the operation.")


def _check_overlap(t, fn, args):
    """PyTorch refuses first a written tensor whose elements share memory (made by expand; not for
    fill_ and zero_, nor copy_ of that very memory), then an operand that partly overlaps the memory
    being written (x.mul_(x[:1]), x[1:] = x[:3]); the very same memory (x.add_(x), x[0] = x[0]) is fine."""
    if issubclass(fn, IndexPut):
        if fn is IndexPut:
            return
        target = t._data[args[0]]
    else:
        target = t._data
        if (has_internal_overlap(target) and not getattr(fn, "writes_overlapping", False)
                and not _copies_itself(t, fn, args)):
            raise RuntimeError(INTERNAL_OVERLAP_ERROR)
    for a in args:
        if isinstance(a, Tensor) and np.may_share_memory(a._data, target):
            if not _same_memory(a._data, target) and np.shares_memory(a._data, target, max_work=10 ** 6):
                raise RuntimeError(OVERLAP_ERROR)


def _same_memory(a, b):
    return (a.shape == b.shape and a.dtype == b.dtype and _strides(a) == _strides(b)
            and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def _strides(array):
    """The strides that matter: a dim of size 1 is never stepped along, whatever its stride says."""
    return tuple(s for s, n in zip(array.strides, array.shape) if n != 1)


def _copies_itself(t, fn, args):
    """x.copy_(x) (or of a detach() of x): PyTorch writes nothing, so even an expanded x is fine."""
    return fn is Copy and isinstance(args[0], Tensor) and _same_memory(args[0]._data, t._data)


def apply_setitem(t, key, basic, value):
    """``t[key] = value`` (key as _index_key gives it), done as PyTorch does it:

    - a key of only ``:`` and ``...`` writes t itself (copy_, or fill_ with a 0-d value);
    - another basic key copies into the view t[key] (CopySlices). On an expanded t that view is
      taken first, so x.expand(2, 3)[0] = 5 writes into x, while t[:, 0] = 5 is refused;
    - index tensors: index_put_ on t, or on the view the key's basic parts make (CopySlices).
    """
    if basic and all(whole(k) for k in key):
        return _copy_into(t, value)
    view_key, tensor_key = (key, (Ellipsis,)) if basic else split_key(key)
    through_view = not all(whole(k) for k in view_key)
    if through_view and has_internal_overlap(t._data):
        return apply_inplace(index(t, view_key), CopySlices if basic else IndexPut, tensor_key, value)
    return apply_inplace(t, CopySlices if through_view else IndexPut, key, value)


def _copy_into(t, value):
    """t[...] = value: PyTorch's copy_, or its fill_ when a 0-d value meets a t with dims."""
    if not isinstance(value, Tensor):
        value = _make(np.asarray(value, dtype=t._data.dtype))
    return apply_inplace(t, FillWithTensor if value._data.ndim == 0 and t._data.ndim else Copy, value)


def apply_inplace(t, fn, *args):
    if t._inference and not _state.inference:
        raise RuntimeError(INFERENCE_ERROR)
    if _state.off_by is None:
        others_require = any(isinstance(a, Tensor) and a._requires_grad for a in args)
        if others_require and t._data.dtype.kind != "f" and getattr(fn, "records_only_into_float", False):
            others_require = False      # a copy into an integer or bool tensor: nothing to differentiate
        root = t._view_of[0] if t._view_of is not None else None
        if root is not None and (t._requires_grad or others_require or root._requires_grad):
            if t._view_of[3]:       # made under no_grad (PyTorch will not guess which history is meant), or by split
                written = _written_view_op(args[0], t._data.shape) if fn is CopySlices else None
                raise RuntimeError(_ambiguous_view_message(t, own_grad_fn(t), indirect=False, written_by=written))
            if (t._requires_grad or root._requires_grad) and root.grad_fn is None:
                raise RuntimeError(VIEW_OF_LEAF_ERROR + _LEAF_HINT)
        elif t._requires_grad and t.grad_fn is None:
            # x[0] = v goes through a view of x in PyTorch (select, then copy_), hence its words
            raise RuntimeError((VIEW_OF_LEAF_ERROR if fn is CopySlices else LEAF_ERROR) + _LEAF_HINT)
        _check_overlap(t, fn, args)                     # (after the leaf errors, as in PyTorch)
        if t._requires_grad or others_require:
            # The old value lives on in a snapshot, which the recorded op may save for backward.
            old = _make(t._data.copy(), t._requires_grad, t.grad_fn, t._output_nr)
            result = fn.apply(old, *args)
            _write(t, result._data, fn, args)
            if root is not None:     # root's new history (CopySlices) is t's too: t is rebuilt from it below
                # the op's operands as its own node lists them (v.mul_(2): the 2; v.fill_(1): nothing),
                # with their history before the op (v.mul_(v): the second v is the old v)
                listed = args if getattr(fn, "numbers_are_inputs", False) else [
                    a if isinstance(a, Tensor) else None for a in args]
                _rebase_root(root, t, result, listed)
            take_history(t, result)
            t._bump_version()        # ... and so are the views of the same memory (sync_view)
            _saved_output_is(t, result.grad_fn)
            return t
    else:
        _check_overlap(t, fn, args)
    raw = fn.forward(_no_grad_ctx(len(args) + 1), t, *args)
    _write(t, raw, fn, args)
    t._bump_version()
    return t


def _written_view_op(key, shape):
    """PyTorch writes ``t[key] = v`` into the view the key makes (select, slice...), so its refusal
    names that view's op: the last one that is not a no-op (a slice of everything is t itself)."""
    name, dim = None, 0
    for k in key:
        if k is Ellipsis:
            dim += len(shape) - sum(1 for j in key if j is not None and j is not Ellipsis)
        elif k is None:
            name = "Unsqueeze"
        elif isinstance(k, slice):
            if k.indices(shape[dim]) != (0, shape[dim], 1):
                name = "Slice"
            dim += 1
        else:
            name, dim = "Select", dim + 1
    return name


def _saved_output_is(t, node):
    """An op that saved its output (x.relu_(), x.exp_(), ...) saved what PyTorch's in-place op saves: t
    itself, at its new version, so a later in-place change of t is refused when backward needs it."""
    saved = node._saved
    if any(entry[0] == "output" for entry in saved):
        box = t._version_box
        node._saved = tuple(("output", (entry[1][0], t._data, box), box[0]) if entry[0] == "output" else entry
                            for entry in saved)


def _rebase_root(root, view, result, args):
    """An in-place change through a view changed the root too: record it there (PyTorch's CopySlices)."""
    view_of = view._view_of
    old_root = _make(root._data, root._requires_grad, root.grad_fn, root._output_nr)
    if root._data.ndim == 0:        # a view of a 0-d tensor holds its one element: no positions to index
        key = () if view._data.size else (np.zeros((), bool),)    # ... or none (an empty expand)
    else:
        positions = replay_view(view_of, np.arange(root._data.size).reshape(root._data.shape))
        key = np.unravel_index(positions, root._data.shape)
    copy_slices = CopySlicesOfExpanded if has_internal_overlap(view._data) else CopySlicesOf
    take_history(root, copy_slices.apply(old_root, key, result._data, result.grad_fn, *args))


def _write(t, values, fn, args):
    values = np.asarray(values)
    if values.shape != t._data.shape:
        raise written_shape_error(t._data.shape, values.shape)
    if not np.can_cast(values.dtype, t._data.dtype, casting="same_kind"):
        output = t.dtype.cpp_name if getattr(fn, "output_type_in_cpp", False) else _torch_type(t._data.dtype)
        raise RuntimeError(f"result type {_torch_type(values.dtype)} can't be cast to the desired output type {output}")
    if not t._data.flags.writeable:
        raise RuntimeError(INTERNAL_OVERLAP_ERROR)
    if has_internal_overlap(t._data):       # made by expand: fill_, zero_ and index_put_ write into it
        if issubclass(fn, IndexPut) and any(isinstance(k, np.ndarray) for k in args[0]):
            _warn_expanded_index_put(t, *args)
        elif _copies_itself(t, fn, args):
            return
        elif not getattr(fn, "writes_overlapping", False):
            raise RuntimeError(INTERNAL_OVERLAP_ERROR)
        elif issubclass(fn, MaskedFill):
            warnings.warn(EXPANDED_MASKED_FILL_WARNING, UserWarning, stacklevel=4)
    if issubclass(fn, MaskedFill):          # only where the mask is (on an expanded t, memory is shared)
        np.copyto(t._data, values, casting="same_kind", where=args[0])
        return
    if issubclass(fn, IndexPut):            # only the region written: elsewhere an expanded t shares its memory
        key = args[0]
        t._data[key] = values[key]
        return
    np.copyto(t._data, values, casting="same_kind")


def _warn_expanded_index_put(t, key, value):
    """PyTorch's deprecation warnings for t[index] = value where t (after the key's basic parts) is
    expanded; its index_put_ hands a one-element value with one boolean mask on to masked_fill_,
    which warns too."""
    view_key, tensor_key = split_key(key)
    if not has_internal_overlap(t._data[view_key]):
        return
    warnings.warn(EXPANDED_INDEX_PUT_WARNING, UserWarning, stacklevel=6)
    tensors = [k for k in tensor_key if isinstance(k, np.ndarray)]
    if len(tensors) == 1 and tensors[0].dtype == np.bool_ and np.size(value._data if isinstance(value, Tensor) else value) == 1:
        warnings.warn(EXPANDED_MASKED_FILL_WARNING, UserWarning, stacklevel=6)


def _torch_type(np_dtype):
    return {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "bool": "Bool",
            "float16": "Half"}.get(np.dtype(np_dtype).name, np.dtype(np_dtype).name)
