"""Gradient clipping, as ``torch.nn.utils``: keep one bad batch from throwing the weights far away.

    loss.backward()
    gk.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)    # returns the norm before clipping
    optimizer.step()

Both change each ``.grad`` in place; live displays hear about it once.
"""
import numpy as np

from .. import _events
from .._tensor import Tensor, _make


def _grads_of(parameters):
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    return [p for p in parameters if p._grad is not None]


def _changed(params):
    for param in params:
        param._grad._version_box[0] += 1      # in-place change of each grad
    if params and _events._subscribers:
        _events.emit("grad", params)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Scale all gradients together so that their combined norm is at most ``max_norm``.

    The norm is taken over all gradients as if they were one vector (``norm_type`` 2 by
    default, ``"inf"`` for the largest absolute value); it is returned, as a tensor.
    """
    params = _grads_of(parameters)
    if not params:
        return _make(np.array(0.0, dtype=np.float32))
    norm_type = float(norm_type)
    grads = [p._grad._data for p in params]
    dtype = grads[0].dtype
    norms = np.array([np.linalg.norm(g.reshape(-1), ord=norm_type) for g in grads], dtype=dtype)
    total = dtype.type(np.linalg.norm(norms, ord=norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                           "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                           "anyway, set `error_if_nonfinite=False`")
    with np.errstate(invalid="ignore"):        # an inf norm makes nan grads, as in PyTorch
        coef = min(dtype.type(max_norm) / (total + dtype.type(1e-6)), dtype.type(1.0))
        for g in grads:
            g *= coef
    _changed(params)
    return _make(np.asarray(total))


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value]."""
    params = _grads_of(parameters)
    for param in params:
        np.clip(param._grad._data, -clip_value, clip_value, out=param._grad._data)
    _changed(params)
