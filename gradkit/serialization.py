"""gk.save / gk.load: tensors, state_dicts and plain containers to a file and back (torch.save's uses).

A tensor is stored as its bytes, dtype name, shape and requires_grad, never as its graph or .grad.
``load`` rebuilds only those and plain Python containers unless told ``weights_only=False``, as
PyTorch's torch.load does by default: unpickling anything else can run arbitrary code.
"""
import collections
import io
import os
import pickle

import numpy as np


def _rebuild_tensor(raw, dtype_name, shape, requires_grad, kind):
    from ._tensor import _make
    array = np.frombuffer(raw, dtype=np.dtype(dtype_name)).reshape(shape).copy()
    t = _make(array)
    if kind == "parameter":
        from .nn.parameter import Parameter
        return Parameter(t, requires_grad=requires_grad)
    return t.requires_grad_(requires_grad) if requires_grad else t


def reduce_tensor(t):
    """What pickling a Tensor (or Parameter) stores: the values and requires_grad, no history."""
    from .nn.parameter import Parameter
    array = t._data                  # (tobytes() writes row by row whatever the layout; ascontiguousarray would make 0-d 1-D)
    return _rebuild_tensor, (array.tobytes(), array.dtype.str, array.shape, bool(t._requires_grad and t.is_leaf),
                             "parameter" if isinstance(t, Parameter) else "tensor")


_SAFE = {("gradkit.serialization", "_rebuild_tensor"), ("collections", "OrderedDict")}


class _WeightsOnly(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _SAFE:
            return collections.OrderedDict if name == "OrderedDict" else _rebuild_tensor
        raise pickle.UnpicklingError(
            f"Weights only load failed: the file asks to build {module}.{name}, which is not a tensor or a plain "
            "container. Loading it could run any code; call gradkit.load(..., weights_only=False) only for a file "
            "you trust (save a model's state_dict() rather than the model itself).")


def save(obj, f):
    """Write ``obj`` (tensors, a state_dict, lists and dicts of them, numbers) to a path or a binary file."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as file:
            pickle.dump(obj, file, protocol=4)
    else:
        pickle.dump(obj, f, protocol=4)


def load(f, map_location=None, weights_only=True):
    """Read what ``save`` wrote. ``map_location`` is accepted (gradkit runs on the CPU only)."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as file:
            data = file.read()
    else:
        data = f.read()
    unpickler = _WeightsOnly(io.BytesIO(data)) if weights_only else pickle.Unpickler(io.BytesIO(data))
    return unpickler.load()
