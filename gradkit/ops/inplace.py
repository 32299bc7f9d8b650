"""In-place ops (add_, mul_, ..., x += y, x[i] = v), with PyTorch's rules.

- On a leaf that requires grad, while grad mode is on: an error (the leaf's
  value is what the gradient is about). Under ``no_grad`` it is allowed: that is
  how optimizers update weights.
- On a tracked tensor: the op is recorded out of place and the tensor takes the
  result's history ("rebases"), so backward still goes through it.
- Always: the version counter goes up, so a backward that needs the old value
  notices it was overwritten.
"""
import numpy as np

from ..autograd.function import _NoGradCtx
from ..autograd.grad_mode import _state

LEAF_ERROR = "a leaf Variable that requires grad is being used in an in-place operation."


def apply_inplace(t, fn, *args):
    from .._tensor import Tensor, _make
    if _state.enabled:
        others_require = any(isinstance(a, Tensor) and a._requires_grad for a in args)
        if t._requires_grad and t.grad_fn is None:
            raise RuntimeError(LEAF_ERROR + " Wrap the update in `with gk.no_grad():` (as optimizers do), "
                               "or work on a copy made with .clone().")
        if t._requires_grad or others_require:
            # The old value lives on in a snapshot, which the recorded op may save for backward.
            old = _make(t._data.copy(), t._requires_grad, t.grad_fn, t._output_nr)
            result = fn.apply(old, *args)
            _write(t, result._data, fn)
            t._requires_grad = True
            t.grad_fn, t._output_nr = result.grad_fn, result._output_nr
            t._retains_grad = False
            t._bump_version()
            return t
    raw = fn.forward(_NoGradCtx(), t, *args)
    _write(t, raw, fn)
    t._bump_version()
    return t


def _write(t, values, fn):
    values = np.asarray(values)
    if values.shape != t._data.shape:
        raise RuntimeError(
            f"output with shape {list(t._data.shape)} doesn't match the broadcast shape {list(values.shape)}")
    if not np.can_cast(values.dtype, t._data.dtype, casting="same_kind"):
        raise RuntimeError(
            f"result type {_torch_type(values.dtype)} can't be cast to the desired output type {_torch_type(t._data.dtype)}")
    if not t._data.flags.writeable:
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a single memory "
            "location. Please clone() the tensor before performing the operation.")
    np.copyto(t._data, values, casting="same_kind")


def _torch_type(np_dtype):
    return {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "bool": "Bool",
            "float16": "Half"}.get(np.dtype(np_dtype).name, np.dtype(np_dtype).name)
