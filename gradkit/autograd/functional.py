"""Derivatives of whole functions: jacobian, hessian, vjp, jvp, vhp, hvp (PyTorch's torch.autograd.functional).

    from gradkit.autograd.functional import jacobian, hessian
    x = gk.tensor([1.0, 2.0], dtype=gk.float64)
    jacobian(lambda x: x ** 2, x)             # tensor([[2., 0.], [0., 4.]])
    hessian(lambda x: (x ** 3).sum(), x)      # tensor([[ 6.,  0.], [ 0., 12.]])

Everything is built from reverse mode (``autograd.grad``), one backward pass per
output element for a Jacobian. Forward-mode products (``jvp``, ``hvp``) use the
"double backward trick", as PyTorch does: a vector-Jacobian product is linear in
its vector, so differentiating it with respect to that vector gives J·v.

Inputs and outputs follow PyTorch's structure: a Tensor in, a Tensor out; a tuple
in, a tuple out. ``vectorize=True`` is accepted and changes nothing (gradkit has no
vmap: the loop is the same). Results are detached unless ``create_graph=True``.
"""
from .._factories import ones_like, zeros, zeros_like
from .._tensor import Tensor
from ..ops import stack
from .grad_mode import enable_grad

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# ------------------------------------------------------------------ plumbing
def _as_tuple(value, arg_name, fn_name):
    """(was it a tuple?, the tensors as a tuple), with PyTorch's TypeError for anything else."""
    if isinstance(value, Tensor):
        return False, (value,)
    if not isinstance(value, tuple):
        raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                        f"the given {arg_name} has type {type(value)}.")
    for i, item in enumerate(value):
        if not isinstance(item, Tensor):
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors "
                            f"but the value at index {i} has type {type(item)}.")
    return True, value


def _unpack(values, was_tuple):
    """Undo _as_tuple on a result: one level, or two (a tuple of tuples for jacobian and hessian)."""
    if isinstance(was_tuple, tuple):
        outer, inner = was_tuple
        if not inner:
            values = tuple(row[0] for row in values)
        return values if outer else values[0]
    return values if was_tuple else values[0]


def _fresh_inputs(inputs, create_graph):
    """Inputs to differentiate against: new leaves, or (create_graph with a tracked input) a view of
    the input, so the result stays connected to the caller's graph."""
    return tuple(t.view(t.shape) if create_graph and t.requires_grad else t.detach().requires_grad_(True)
                 for t in inputs)


def _finish(values, create_graph):
    """Detach results unless the caller asked to differentiate them again."""
    if isinstance(values, tuple):
        return tuple(_finish(v, create_graph) for v in values)
    return values if create_graph else values.detach()


def _check_v(v, refs, refs_were_tuple, fn_name):
    """``v`` as a detached tuple the same shapes as ``refs`` (PyTorch's errors when it is not)."""
    _, v = _as_tuple(v, "v", fn_name)
    if len(v) != len(refs):
        if refs_were_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(refs)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for i, (vector, ref) in enumerate(zip(v, refs)):
        if vector.shape != ref.shape:
            prefix = f"Entry {i} in " if refs_were_tuple else ""
            raise RuntimeError(f"{prefix}v has invalid size: should be {ref.shape} but got {vector.shape}.")
    return tuple(vector.detach() for vector in v)


def _require_single_element(tensors, what):
    if len(tensors) != 1 or tensors[0].numel() != 1:
        raise RuntimeError(f"The vector v can only be None if {what} a single Tensor with a single element.")


def _outputs_require_grad(outputs, strict):
    if strict:
        for i, out in enumerate(outputs):
            if not out.requires_grad:
                raise RuntimeError(f"Output {i} of the user-provided function does not require gradients. The "
                                   "outputs must be computed in a differentiable manner from the input when running "
                                   "in strict mode.")


def _grads(outputs, inputs, grad_outputs=None, create_graph=False):
    """autograd.grad over the outputs that require grad (None for an input nothing reaches).

    A missing grad_output is ones: callers only leave it out for single-element outputs.
    """
    from . import grad      # gradkit.autograd imports this module before it defines grad
    grad_outputs = grad_outputs or (None,) * len(outputs)
    pairs = [(out, g if g is not None else ones_like(out))
             for out, g in zip(outputs, grad_outputs) if out is not None and out.requires_grad]
    if not pairs:
        return (None,) * len(inputs)
    return grad([p[0] for p in pairs], inputs, [p[1] for p in pairs], retain_graph=True,
                create_graph=create_graph, allow_unused=True)


def _zeros_where_missing(grads, refs, strict, independent_message):
    """Replace None grads with zeros shaped like ``refs[i]``; in strict mode, raise instead."""
    filled = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(independent_message.format(i=i))
            g = zeros_like(ref)
        filled.append(g)
    return tuple(filled)


_BACK = "The output of the user-provided function is independent of input {i}. This is not allowed in strict mode."


# ------------------------------------------------------------------ products
def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ·J): the vector-Jacobian product, what backward computes with ``gradient=v``.

    ``v`` has the shape of the output; it may be None when the output has one element.
    """
    with enable_grad():
        inputs_were_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _fresh_inputs(inputs, create_graph)
        outputs_were_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "vjp")
        _outputs_require_grad(outputs, strict)
        if v is None:
            _require_single_element(outputs, "the user-provided function returns")
        else:
            v = _check_v(v, outputs, outputs_were_tuple, "vjp")
        result = _zeros_where_missing(_grads(outputs, inputs, v, create_graph), inputs, strict, _BACK)
    return (_unpack(_finish(outputs, create_graph), outputs_were_tuple),
            _unpack(_finish(result, create_graph), inputs_were_tuple))


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J·v): the Jacobian-vector product (forward mode), by the double backward trick.

    ``v`` has the shape of the input; it may be None when the input has one element.
    """
    with enable_grad():
        inputs_were_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _fresh_inputs(inputs, create_graph)
        if v is None:
            _require_single_element(inputs, "the input to the user-provided function is")
        else:
            v = _check_v(v, inputs, inputs_were_tuple, "jvp")
        outputs_were_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", "jvp")
        _outputs_require_grad(outputs, strict)
        # uᵀ·J is linear in u; its derivative with respect to u, applied to v, is J·v.
        dummies = tuple(zeros_like(out, requires_grad=True) for out in outputs)
        vector_jacobian = _grads(outputs, inputs, dummies, create_graph=True)
        if strict:
            _zeros_where_missing(vector_jacobian, inputs, strict, _BACK)
        result = _grads(vector_jacobian, dummies, v, create_graph)
        result = _zeros_where_missing(result, outputs, strict,
                                      "The gradient with respect to the input is independent of entry {i} in the "
                                      "grad_outputs when using the double backward trick to compute forward mode "
                                      "gradients. This is not allowed in strict mode.")
    return (_unpack(_finish(outputs, create_graph), outputs_were_tuple),
            _unpack(_finish(result, create_graph), outputs_were_tuple))


# ------------------------------------------------------------------ matrices
def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``: entry [i..., j...] is d output[i...] / d input[j...].

    Its shape is output.shape + input.shape. With tuples of inputs and/or outputs the
    result is a tuple (of tuples) of such blocks, as in PyTorch.
    """
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                             'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                             'Otherwise, prefer to use "reverse-mode".')
    if strategy == "forward-mode" and not vectorize:
        raise NotImplementedError("Computing Jacobian using forward-AD or forward-over-reverse Hessian is"
                                  "only implemented for `vectorize=True`.")
    with enable_grad():
        inputs_were_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _fresh_inputs(inputs, create_graph)
        outputs_were_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function",
                                                "jacobian")
        _outputs_require_grad(outputs, strict)
        blocks = tuple(_jacobian_rows(i, out, inputs, create_graph, strict) for i, out in enumerate(outputs))
    return _unpack(_finish(blocks, create_graph), (outputs_were_tuple, inputs_were_tuple))


def _jacobian_rows(i, out, inputs, create_graph, strict):
    """One backward pass per element of ``out`` (a one-hot grad_output each): the rows of its Jacobian blocks."""
    rows = [[] for _ in inputs]
    for j in range(out.numel()):
        one_hot = zeros(out.numel(), dtype=out.dtype)
        one_hot._data[j] = 1
        grads = _grads((out,), inputs, (one_hot.reshape(out.shape),), create_graph)
        message = f"Output {i} of the user-provided function is independent of input {{i}}. This is not allowed " \
                  "in strict mode."
        for row, g in zip(rows, _zeros_where_missing(grads, inputs, strict, message)):
            row.append(g)
    return tuple(stack(row).reshape(*out.shape, *inp.shape) if row else zeros(*out.shape, *inp.shape, dtype=inp.dtype)
                 for row, inp in zip(rows, inputs))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian (matrix of second derivatives) of a function returning one number.

    Its shape is input.shape + input.shape; with a tuple of inputs, a tuple of tuples
    of blocks [i][j] = d² f / d input_i d input_j.
    """
    inputs_were_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def single_output(*args):
        out = func(*args)
        was_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _outputs_require_grad(outs, strict)
        if was_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        return out.squeeze()

    def gradient(*args):
        return jacobian(single_output, args, create_graph=True, strict=strict)

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                      strategy=outer_jacobian_strategy)
    return _unpack(result, (inputs_were_tuple, inputs_were_tuple))


def _first_derivative(fn_name, func, inputs, v, create_graph, strict):
    """What vhp and hvp share: checked inputs, v, the output, and its gradient (kept differentiable)."""
    inputs_were_tuple, inputs = _as_tuple(inputs, "inputs", fn_name)
    inputs = _fresh_inputs(inputs, create_graph)
    if v is None:
        _require_single_element(inputs, "the input to the user-provided function is")
    else:
        v = _check_v(v, inputs, inputs_were_tuple, fn_name)
    outputs_were_tuple, outputs = _as_tuple(func(*inputs), "outputs of the user-provided function", fn_name)
    _outputs_require_grad(outputs, strict)
    if outputs_were_tuple:
        raise RuntimeError(f"The function given to {fn_name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {fn_name} should contain a single element")
    gradient = _grads(outputs, inputs, create_graph=True)
    return inputs_were_tuple, inputs, v, outputs[0], gradient


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), vᵀ·H): a vector times the Hessian of a function returning one number."""
    with enable_grad():
        inputs_were_tuple, inputs, v, output, gradient = _first_derivative("vhp", func, inputs, v, create_graph,
                                                                           strict)
        result = _zeros_where_missing(_grads(gradient, inputs, v, create_graph), inputs, strict,
                                      "The jacobian of the user-provided function is independent of input {i}. "
                                      "This is not allowed in strict mode.")
    return _finish(output, create_graph), _unpack(_finish(result, create_graph), inputs_were_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H·v): the Hessian times a vector, by the double backward trick (equal to vhp when
    the Hessian is symmetric, i.e. for twice continuously differentiable functions)."""
    with enable_grad():
        inputs_were_tuple, inputs, v, output, gradient = _first_derivative("hvp", func, inputs, v, create_graph,
                                                                           strict)
        dummies = tuple(zeros_like(inp, requires_grad=True) for inp in inputs)
        transposed = _grads(gradient, inputs, dummies, create_graph=True)      # Hᵀ·u, linear in u
        result = _zeros_where_missing(_grads(transposed, dummies, v, create_graph), inputs, strict,
                                      "The hessian of the user-provided function is independent of entry {i} in "
                                      "the grad_jacobian. This is not allowed in strict mode as it prevents from "
                                      "using the double backward trick to replace forward mode AD.")
    return _finish(output, create_graph), _unpack(_finish(result, create_graph), inputs_were_tuple)
