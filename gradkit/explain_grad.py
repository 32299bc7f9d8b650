"""`gk.explain(t)`: why is ``t.grad`` None (or what it holds), in plain words.

Every sentence comes from looking at the tensor and the graph, never from guessing:
requires_grad, is_leaf, retain_grad, whether a given output's graph reaches the
tensor, where a named tensor in that graph was cut off by detach() or no_grad.
"""
from ._tensor import Tensor
from .autograd.function import walk

# The local derivative each op applies in backward, in words (shown by the widget's inspect panel).
DERIVATIVES = {
    "AddBackward0": "grad_a = grad_out, grad_b = grad_out (a sum passes the gradient through)",
    "SubBackward0": "grad_a = grad_out, grad_b = -grad_out",
    "MulBackward0": "grad_a = grad_out * b, grad_b = grad_out * a",
    "DivBackward0": "grad_a = grad_out / b, grad_b = -grad_out * a / b²",
    "NegBackward0": "grad_a = -grad_out",
    "PowBackward0": "grad_a = grad_out * n * a^(n-1)",
    "PowBackward1": "grad_a = grad_out * b * a^(b-1), grad_b = grad_out * a^b * ln(a)",
    "PowBackward2": "grad_b = grad_out * c^b * ln(c)",
    "ReciprocalBackward0": "grad_a = -grad_out / a²",
    "SqueezeBackward4": "grad_a = grad_out with the squeezed dim put back",
    "UnsqueezeBackward0": "grad_a = grad_out with the added dim removed",
    "MmBackward0": "grad_A = grad_out @ Bᵀ, grad_B = Aᵀ @ grad_out",
    "MvBackward0": "grad_A = grad_out ⊗ v, grad_v = Aᵀ @ grad_out",
    "DotBackward0": "grad_a = grad_out * b, grad_b = grad_out * a",
    "BmmBackward0": "grad_A = grad_out @ Bᵀ, grad_B = Aᵀ @ grad_out (per batch)",
    "SumBackward0": "grad_a = grad_out copied to every element (each one added 1× to the sum)",
    "SumBackward1": "grad_a = grad_out copied along the summed dims",
    "MeanBackward0": "grad_a = grad_out / N for every element",
    "MeanBackward1": "grad_a = grad_out / N along the averaged dims",
    "MaxBackward1": "grad goes to the largest element(s), shared evenly on ties",
    "MinBackward1": "grad goes to the smallest element(s), shared evenly on ties",
    "MaxBackward0": "grad goes to the index that won along dim",
    "MinBackward0": "grad goes to the index that won along dim",
    "ProdBackward0": "grad_a = grad_out * (product of all the other elements)",
    "ExpBackward0": "grad_a = grad_out * exp(a)",
    "LogBackward0": "grad_a = grad_out / a",
    "SqrtBackward0": "grad_a = grad_out / (2 √a)",
    "AbsBackward0": "grad_a = grad_out * sign(a)",
    "SinBackward0": "grad_a = grad_out * cos(a)",
    "CosBackward0": "grad_a = -grad_out * sin(a)",
    "TanhBackward0": "grad_a = grad_out * (1 - tanh²(a))",
    "SigmoidBackward0": "grad_a = grad_out * σ(a) * (1 - σ(a))",
    "ReluBackward0": "grad_a = grad_out where a > 0, else 0",
    "ClampBackward1": "grad_a = grad_out where a was inside [min, max], else 0",
    "SoftmaxBackward0": "grad_a = y * (grad_out - sum(grad_out * y)), y = softmax(a)",
    "LogSoftmaxBackward0": "grad_a = grad_out - softmax(a) * sum(grad_out)",
    "ViewBackward0": "grad_a = grad_out reshaped back",
    "TransposeBackward0": "grad_a = grad_out transposed back",
    "PermuteBackward0": "grad_a = grad_out permuted back",
    "ExpandBackward0": "grad_a = grad_out summed over the expanded dims",
    "IndexBackward0": "grad_a = zeros with grad_out added at the indexed places",
    "SelectBackward0": "grad_a = zeros with grad_out put at the selected index",
    "SliceBackward0": "grad_a = zeros with grad_out put in the slice",
    "CatBackward0": "each input gets its own slice of grad_out",
    "StackBackward0": "each input gets its own slice of grad_out",
    "CloneBackward0": "grad_a = grad_out",
}


def derivative_text(node_name):
    """The local derivative rule of a grad_fn, in words."""
    return DERIVATIVES.get(node_name, "defined by this Function's backward()")


def _reaches(root, target):
    """Does backward from ``root`` arrive at ``target``?"""
    if root is target:
        return True
    for node in walk(root):
        if target.grad_fn is not None and node is target.grad_fn:
            return True
        if any(edge is not None and edge[0] is target for edge in node._edges):
            return True
    return False


def _label(t, names):
    for key, value in (names or {}).items():
        if value is t:
            return key
    return t.name or "t"


def explain(t, output=None, names=None):
    """Say in plain words why ``t.grad`` is None, or where its value came from.

    output: the tensor you called backward() on (lets explain check the path).
    names: {"x": x, ...} (``names=locals()`` works) for readable messages and to find
    the tensor where tracking was cut.

        >>> gk.explain(w)
        'w.grad is None because w.requires_grad is False: ...'
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"explain() expects a gradkit Tensor, got {type(t).__name__}")
    me = _label(t, names)
    if not t._requires_grad:
        if t._grad is not None:
            return (f"{me}.grad still holds the result of an earlier backward(), but {me}.requires_grad is "
                    f"now False: new computations with {me} are not recorded and will not add to it.")
        if t._data.dtype.kind != "f":
            return (f"{me}.grad is None because {me} has dtype {t.dtype!r}: only floating-point tensors can "
                    f"require grad. Make it float (e.g. {me}.float()) and call requires_grad_().")
        cut = _find_cut(t, names)
        return (f"{me}.grad is None because {me}.requires_grad is False: operations on {me} were not recorded, "
                f"so backward() never reaches it.{cut} Call {me}.requires_grad_() before computing, "
                f"or create it with requires_grad=True.")
    if t.grad_fn is not None and not t._retains_grad:
        return (f"{me}.grad is None because {me} is not a leaf (it was made by {t.grad_fn.name()}): "
                f"backward() only fills .grad of leaves. Call {me}.retain_grad() before backward() to keep it. "
                f"If {me} is meant to be a parameter you update, make it a leaf instead: build its value "
                f"without tracking, then turn tracking on ({me} = {me}.detach().requires_grad_()).")
    if output is not None:
        if not output._requires_grad:
            return (f"backward() cannot start from the output: it does not require grad, so no graph was "
                    f"recorded. {_find_cut(output, names)}".strip())
        if not _reaches(output, t):
            cut = _find_cut_between(output, names)
            if not cut:
                cut = (" Something between them was computed under no_grad / inference_mode, "
                       "or cut with detach().")
            return f"{me}.grad stays None: the graph of the output does not reach {me}.{cut}"
    if t._grad is None:
        if t.grad_fn is not None:
            return (f"{me} retains its grad, but no backward() has reached it yet: call backward() on an "
                    f"output computed from {me}.")
        return (f"{me}.grad is None because no backward() has reached {me} yet (or .grad was set to None, "
                f"e.g. by zero_grad()). Compute an output from {me} and call output.backward().")
    if not t._grad._data.any():
        return (f"{me}.grad holds zeros: it was zeroed (zero_grad(set_to_none=False) or .grad.zero_()) "
                f"or the output does not depend on {me} where it was evaluated.")
    return (f"{me}.grad holds the sum of the gradients of every backward() since it was last cleared: "
            f"they accumulate. Clear it with {me}.grad = None (or optimizer.zero_grad()) between steps.")


def _find_cut(t, names):
    """If a named tracked tensor shares memory history with ``t`` (t = it.detach()), say so."""
    for key, other in (names or {}).items():
        if isinstance(other, Tensor) and other is not t and other._requires_grad \
                and other._version_box is t._version_box:
            return f" It is {key}.detach(): a copy of {key} cut off from the graph."
    return ""


def _find_cut_between(output, names):
    """Name the untracked operands (in names=) of the output's graph: where tracking stopped."""
    if output.grad_fn is None:
        return ""
    untracked = set()
    for node in walk(output):
        for ref in (node._untracked or {}).values():
            t = ref()
            if t is not None:
                untracked.add(id(t))
    found = [key for key, value in (names or {}).items() if isinstance(value, Tensor) and id(value) in untracked]
    if found:
        return f" It was cut at {', '.join(found)}: requires_grad=False there (made under no_grad or by detach())."
    return ""
