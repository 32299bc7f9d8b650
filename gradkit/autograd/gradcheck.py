"""gradcheck: compare backward's gradients with finite differences.

For each input element, nudge it by ±eps and watch every output element: the
central difference (f(x+eps) - f(x-eps)) / 2eps is one column of the numerical
Jacobian. Backward, seeded with one output element at a time, gives the rows of
the analytical Jacobian. They must agree within atol + rtol * |numerical|.
"""
import warnings

import numpy as np

from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    """Raised when analytical and numerical gradients disagree."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else (x,)


def _numerical_jacobians(fn, inputs, outputs, eps):
    """jacobians[out_i][in_j] has shape (input numel, output numel)."""
    from .._tensor import Tensor
    jac = [[np.zeros((t._data.size, o._data.size)) for t in inputs] for o in outputs]
    for j, t in enumerate(inputs):
        if not (isinstance(t, Tensor) and t._requires_grad):
            continue
        data = t._data
        for k in range(data.size):
            at = np.unravel_index(k, data.shape)   # row-major order, whatever the memory layout
            original = data[at].copy()
            with no_grad():
                data[at] = original + eps
                plus = [o._data.astype(np.float64).ravel().copy() for o in _as_tuple(fn(*inputs))]
                data[at] = original - eps
                minus = [o._data.astype(np.float64).ravel().copy() for o in _as_tuple(fn(*inputs))]
            data[at] = original
            for i in range(len(outputs)):
                jac[i][j][k] = (plus[i] - minus[i]) / (2 * eps)
    return jac


def _analytical_jacobians(inputs, outputs):
    from .._tensor import Tensor, _make
    from .engine import run_backward
    wanted = [t for t in inputs if isinstance(t, Tensor) and t._requires_grad]
    jac = [[np.zeros((t._data.size, o._data.size)) for t in inputs] for o in outputs]
    for i, out in enumerate(outputs):
        if not out._requires_grad:
            continue
        for m in range(out._data.size):
            seed = np.zeros(out._data.size, dtype=out._data.dtype)
            seed[m] = 1
            grads = run_backward((out,), (_make(seed.reshape(out._data.shape)),), True, False,
                                 inputs=wanted, allow_unused=True, accumulate=False)
            for g, t in zip(grads, wanted):
                j = next(idx for idx, x in enumerate(inputs) if x is t)
                if g is not None:
                    jac[i][j][:, m] = g._data.astype(np.float64).ravel()
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """True if ``func``'s backward matches central differences at ``inputs``.

    ``inputs`` is a tensor or a tuple of them; the ones that require grad are checked.
    Use float64 inputs: float32 is too coarse for eps=1e-6, and a warning says so.
    """
    from .._tensor import Tensor
    inputs = _as_tuple(inputs)
    checked = [t for t in inputs if isinstance(t, Tensor) and t._requires_grad]
    if not checked:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of them have requires_grad=True.")
    for t in checked:
        if t._data.dtype != np.float64:
            warnings.warn(
                f"Input #{inputs.index(t)} requires gradient and is not a double precision floating point or "
                "complex. This check will likely fail if all the inputs are not of double precision floating point "
                "or complex. ",
                UserWarning, stacklevel=2)
    outputs = _as_tuple(func(*inputs))
    analytical = _analytical_jacobians(inputs, outputs)
    numerical = _numerical_jacobians(func, inputs, outputs, eps)
    for i in range(len(outputs)):
        for j, t in enumerate(inputs):
            if not (isinstance(t, Tensor) and t._requires_grad):
                continue
            a, n = analytical[i][j], numerical[i][j]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradcheckError(
                    f"Jacobian mismatch for output {i} with respect to input {j},\n"
                    f"numerical:{_show(n)}\nanalytical:{_show(a)}\n")
    return True


def _show(matrix):
    return "\n" + np.array2string(matrix, precision=4, suppress_small=True)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """True if ``func``'s second derivatives match central differences of its first ones.

    As PyTorch's: gradcheck of x, v -> autograd.grad(func(x), x, v, create_graph=True), where the
    ``grad_outputs`` v (random, from a fixed seed, unless given) are checked as inputs too.
    """
    from .._tensor import Tensor, _make
    from . import grad       # (the package's: loaded by the time this runs)
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(_make(rng.standard_normal(o._data.shape).astype(o._data.dtype), requires_grad=True)
                             for o in _as_tuple(func(*inputs)))
    grad_outputs = _as_tuple(grad_outputs)
    n = len(inputs)

    def first_derivatives(*args):
        wanted = [t for t in args[:n] if isinstance(t, Tensor) and t._requires_grad]
        with enable_grad():       # (gradcheck's finite differences run under no_grad)
            found = grad(_as_tuple(func(*args[:n])), wanted, args[n:], create_graph=True, allow_unused=True)
        return tuple(g if g is not None else t.new_zeros(t.shape) for g, t in zip(found, wanted))

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
