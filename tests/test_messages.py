"""Every message gradkit shares with PyTorch starts with PyTorch's exact text (issue 14).

Each row is a small program, written once for both libraries (``lib`` is gradkit or
torch), and the error or warning it must give. Without torch, gradkit's text is checked
against the start stored in the table; with torch, gradkit's first line must equal
torch's first line for the same program (``torch.`` read as ``gradkit.``). A hint that
gradkit adds comes after, on its own line starting ``gradkit hint: ``.
"""
import numpy as np
import pytest

import gradkit as gk
from torch_twin import outcome, torch_outcome


def _non_leaf_grad(lib):
    x = lib.tensor([1.0], requires_grad=True)
    return (x * 2).grad


def _leaf_inplace(lib):
    lib.tensor([1.0], requires_grad=True).add_(1)


def _modified_for_backward(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    y.sum().backward()


def _second_backward(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp()).sum()
    y.backward()
    y.backward()


def _int_requires_grad(lib):
    lib.tensor([1, 2], requires_grad=True)


def _int_requires_grad_(lib):
    lib.tensor([1, 2]).requires_grad_()


def _gradcheck_float32(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    lib.autograd.gradcheck(lambda t: (t * t).sum(), (x,), eps=1e-2, atol=1e-1, rtol=1e-1)


def _unreachable_input(lib):
    x = lib.tensor([1.0], requires_grad=True)
    z = lib.tensor([1.0], requires_grad=True)
    lib.autograd.grad((x * 2).sum(), z)


def _non_scalar_backward(lib):
    (lib.tensor([1.0, 2.0], requires_grad=True) * 2).backward()


def _no_grad_backward(lib):
    lib.tensor([1.0]).sum().backward()


def _view_of_transposed(lib):
    lib.ones(2, 3).t().view(-1)


def _set_grad_of_non_leaf_off(lib):
    (lib.tensor([1.0], requires_grad=True) * 2).requires_grad_(False)


def _numpy_of_tracked(lib):
    lib.tensor([1.0], requires_grad=True).numpy()


def _item_of_many(lib):
    lib.ones(3).item()


def _bool_of_many(lib):
    bool(lib.ones(3))


def _retain_grad_untracked(lib):
    lib.ones(3).retain_grad()


def _hook_untracked(lib):
    lib.ones(3).register_hook(lambda g: g)


def _tensor_of_tensor(lib):
    lib.tensor(lib.ones(2))


def _var_one_element(lib):
    lib.tensor([1.0]).var()


def _std_one_element(lib):
    lib.tensor([[1.0, 2.0]]).std(dim=0)


def _matmul_shapes(lib):
    lib.ones(2, 3) @ lib.ones(2, 3)


def _cat_zero_dim(lib):
    lib.cat([lib.tensor(1.0), lib.tensor(2.0)])


def _cat_sizes(lib):
    lib.cat([lib.ones(2, 3), lib.ones(2, 4)])


def _reshape_size(lib):
    lib.ones(4).reshape(3)


def _dim_out_of_range(lib):
    lib.ones(2, 3).sum(dim=2)


def _mean_of_ints(lib):
    lib.tensor([1, 2]).mean()


def _expand(lib):
    lib.ones(3).expand(2, 4)


def _mismatched_grad_shape(lib):
    (lib.tensor([1.0, 2.0], requires_grad=True) * 2).backward(lib.ones(3))


def _inference_requires_grad(lib):
    with lib.inference_mode():
        t = lib.ones(2)
    t.requires_grad_()


def _grad_non_tensor(lib):
    x = lib.tensor([1.0], requires_grad=True)
    x.grad = 3


def _modified_saved_leaf(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    z = x * x
    with lib.no_grad():
        x.add_(1)
    z.sum().backward()


def _unused_second_input(lib):
    x = lib.tensor([1.0], requires_grad=True)
    z = lib.tensor([1.0], requires_grad=True)
    lib.autograd.grad((x * 2).sum(), [x, z])


def _inference_saved(lib):
    weight = lib.tensor([1.0, 2.0], requires_grad=True)
    with lib.inference_mode():
        served = lib.tensor([3.0, 4.0]) * 2
    served * weight


def _broadcast(a, b, op):
    return lambda lib: op(lib.ones(*a), lib.ones(*b))


ERRORS = {
    # name: (program, error class, start of gradkit's first line)
    "leaf in-place": (_leaf_inplace, "RuntimeError",
                      "a leaf Variable that requires grad is being used in an in-place operation."),
    "modified for backward": (_modified_for_backward, "RuntimeError",
                              "one of the variables needed for gradient computation has been modified by an "
                              "inplace operation"),
    "second backward": (_second_backward, "RuntimeError", "Trying to backward through the graph a second time"),
    "int requires_grad=True": (_int_requires_grad, "RuntimeError",
                               "Only Tensors of floating point and complex dtype can require gradients"),
    "int requires_grad_()": (_int_requires_grad_, "RuntimeError",
                             "only Tensors of floating point dtype can require gradients"),
    "grad of an unreachable input": (_unreachable_input, "RuntimeError",
                                     "The differentiated Tensor at index 0 appears to not have been used in the graph"),
    "non-scalar backward": (_non_scalar_backward, "RuntimeError",
                            "grad can be implicitly created only for scalar outputs"),
    "backward of an untracked tensor": (_no_grad_backward, "RuntimeError",
                                        "element 0 of tensors does not require grad and does not have a grad_fn"),
    "broadcast a+b": (_broadcast((3,), (4,), lambda a, b: a + b), "RuntimeError",
                      "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 0"),
    "broadcast a*b 2-D": (_broadcast((2, 3), (4,), lambda a, b: a * b), "RuntimeError",
                          "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    "broadcast a/b 3-D": (_broadcast((2, 3, 5), (4, 1), lambda a, b: a / b), "RuntimeError",
                          "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"),
    "broadcast maximum": (_broadcast((3,), (4,), lambda a, b: a.maximum(b)), "RuntimeError",
                          "The size of tensor a (3) must match the size of tensor b (4)"),
    "broadcast a<b": (_broadcast((3,), (4,), lambda a, b: a < b), "RuntimeError",
                      "The size of tensor a (3) must match the size of tensor b (4)"),
    "broadcast add_": (_broadcast((3,), (4,), lambda a, b: a.add_(b)), "RuntimeError",
                       "The size of tensor a (3) must match the size of tensor b (4)"),
    "view of a transposed tensor": (_view_of_transposed, "RuntimeError",
                                    "view size is not compatible with input tensor's size and stride"),
    "requires_grad off on a non-leaf": (_set_grad_of_non_leaf_off, "RuntimeError",
                                        "you can only change requires_grad flags of leaf variables."),
    "numpy() of a tracked tensor": (_numpy_of_tracked, "RuntimeError",
                                    "Can't call numpy() on Tensor that requires grad."),
    "item() of many": (_item_of_many, "RuntimeError", "a Tensor with 3 elements cannot be converted to Scalar"),
    "bool() of many": (_bool_of_many, "RuntimeError", "Boolean value of Tensor with more than one value is ambiguous"),
    "retain_grad untracked": (_retain_grad_untracked, "RuntimeError",
                              "can't retain_grad on Tensor that has requires_grad=False"),
    "hook untracked": (_hook_untracked, "RuntimeError",
                       "cannot register a hook on a tensor that doesn't require gradient"),
    "matmul shapes": (_matmul_shapes, "RuntimeError", "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
    "cat of 0-d": (_cat_zero_dim, "RuntimeError", "zero-dimensional tensor (at position 0) cannot be concatenated"),
    "cat sizes": (_cat_sizes, "RuntimeError", "Sizes of tensors must match except in dimension 0."),
    "reshape size": (_reshape_size, "RuntimeError", "shape '[3]' is invalid for input of size 4"),
    "dim out of range": (_dim_out_of_range, "IndexError", "Dimension out of range (expected to be in range of [-2, 1]"),
    "mean of ints": (_mean_of_ints, "RuntimeError", "mean(): could not infer output dtype."),
    "expand": (_expand, "RuntimeError", "The expanded size of the tensor (4) must match the existing size (3)"),
    "backward gradient shape": (_mismatched_grad_shape, "RuntimeError", "Mismatch in shape: grad_output[0] has a shape of"),
    "inference tensor requires_grad_": (_inference_requires_grad, "RuntimeError",
                                        "Setting requires_grad=True on inference tensor outside InferenceMode"),
    "grad set to a number": (_grad_non_tensor, "TypeError",
                             "assigned grad expected to be a Tensor or None but got grad of type int"),
    "float() of many": (lambda lib: float(lib.ones(2)), "ValueError",
                        "only one element tensors can be converted to Python scalars"),
    "requires_grad = True on ints": (lambda lib: setattr(lib.ones(1, dtype=lib.int64), "requires_grad", True),
                                     "RuntimeError", "only Tensors of floating point and complex dtype can require"),
    "zeros(2.5)": (lambda lib: lib.zeros(2.5), "TypeError",
                   "zeros(): argument 'size' (position 1) must be tuple of ints, not float"),
    "ones(2, 2.5)": (lambda lib: lib.ones(2, 2.5), "TypeError",
                     "ones(): argument 'size' failed to unpack the object at pos 2"),
    "zeros(-1)": (lambda lib: lib.zeros(-1), "RuntimeError", "zeros: Dimension size must be non-negative."),
    "randn(2, -1)": (lambda lib: lib.randn(2, -1), "RuntimeError",
                     "Trying to create tensor with negative dimension -1: [2, -1]"),
    "full(3, 1.0)": (lambda lib: lib.full(3, 1.0), "TypeError",
                     "full(): argument 'size' (position 1) must be tuple of ints, not int"),
    "to(foo=1)": (lambda lib: lib.ones(2).to(foo=1), "TypeError",
                  "to() received an invalid combination of arguments - got (foo=int, ), but expected one of:"),
    "to([1])": (lambda lib: lib.ones(2).to([1]), "TypeError",
                "to() received an invalid combination of arguments - got (list), but expected one of:"),
    "len of 0-d": (lambda lib: len(lib.tensor(1.0)), "TypeError", "len() of a 0-d tensor"),
    "index with a float tensor": (lambda lib: [1, 2][lib.tensor(1.0)], "TypeError",
                                  "only integer tensors of a single element can be converted to an index"),
    "max(dim) over an empty dim": (lambda lib: lib.zeros(2, 0).max(1), "IndexError",
                                   "max(): Expected reduction dim 1 to have non-zero size."),
    "min(dim) over an empty dim": (lambda lib: lib.zeros(2, 0).min(-1), "IndexError",
                                   "min(): Expected reduction dim 1 to have non-zero size."),
    "var of ints": (lambda lib: lib.tensor([1, 2]).var(), "RuntimeError",
                    "std and var only support floating point and complex dtypes"),
    "softmax of ints": (lambda lib: lib.tensor([1, 2]).softmax(0), "NotImplementedError",
                        '"softmax_lastdim_kernel_impl" not implemented for \'Long\''),
    "log_softmax of ints over dim 0": (lambda lib: lib.ones(2, 2, dtype=lib.int64).log_softmax(0),
                                       "NotImplementedError", '"log_softmax_kernel_impl" not implemented'),
    "index of a 0-d tensor": (lambda lib: lib.tensor(1.0)[0], "IndexError", "invalid index of a 0-dim tensor."),
    "slice of a 0-d tensor": (lambda lib: lib.tensor(1.0)[0:1], "IndexError",
                              "slice() cannot be applied to a 0-dim tensor."),
    "too many indices": (lambda lib: lib.ones(3)[:, 0], "IndexError", "too many indices for tensor of dimension 1"),
    "index out of bounds": (lambda lib: lib.ones(3, 3)[:, 5], "IndexError",
                            "index 5 is out of bounds for dimension 1 with size 3"),
    "mask of the wrong shape": (lambda lib: lib.ones(3)[lib.tensor([True, False])], "IndexError",
                                "The shape of the mask [2] at index 0 does not match"),
    "cat of different ndim": (lambda lib: lib.cat([lib.ones(2, 2), lib.ones(2)]), "RuntimeError",
                              "Tensors must have same number of dimensions: got 2 and 1"),
    "matrix @ vector sizes": (lambda lib: lib.ones(2, 3, 2) @ lib.ones(6), "RuntimeError",
                              "size mismatch, got input (6), mat (6x2), vec (6)"),
    "batched matmul sizes": (lambda lib: lib.ones(6) @ lib.ones(2, 3, 2), "RuntimeError",
                             "Expected size for first two dimensions of batch2 tensor to be: [2, 6] but got: [2, 3]."),
    "argmax of empty": (lambda lib: lib.zeros(0).argmax(), "IndexError",
                        "argmax(): Expected reduction dim to be specified for input.numel() == 0."),
    "argmin over an empty dim": (lambda lib: lib.zeros(2, 0).argmin(1), "IndexError",
                                 "argmin(): Expected reduction dim 1 to have non-zero size."),
    "vector . vector sizes": (lambda lib: lib.ones(3) @ lib.ones(2), "RuntimeError",
                              "inconsistent tensor size, expected tensor [3] and src [2]"),
    "batch @ matrix sizes fold the batch": (lambda lib: lib.ones(2, 2, 3) @ lib.ones(2, 2), "RuntimeError",
                                            "mat1 and mat2 shapes cannot be multiplied (4x3 and 2x2)"),
    "shapes are checked before dtypes": (lambda lib: lib.ones(2, 3) @ lib.ones(2, 3, dtype=lib.float64),
                                         "RuntimeError", "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)"),
    "matrix @ 0-d": (lambda lib: lib.ones(2, 2) @ lib.tensor(2), "RuntimeError",
                     "both arguments to matmul need to be at least 1D, but they are 2D and 0D"),
    "float32 @ float64": (lambda lib: lib.ones(2, 2) @ lib.ones(2, 2, dtype=lib.float64), "RuntimeError",
                          "expected m1 and m2 to have the same dtype, but got: float != double"),
    "float32 vector . float64 vector": (lambda lib: lib.ones(2) @ lib.ones(2, dtype=lib.float64), "RuntimeError",
                                        "dot : expected both vectors to have same dtype, but found Float and Double"),
    "float32 matrix @ float64 vector": (lambda lib: lib.ones(2, 2) @ lib.ones(2, dtype=lib.float64), "RuntimeError",
                                        "addmv input tensors must have the same dtype"),
    "batched float32 @ float64": (lambda lib: lib.ones(2, 2, 2) @ lib.ones(2, 2, 2, dtype=lib.float64),
                                  "RuntimeError", "expected scalar type Float but found Double"),
    # found by a review of every message against PyTorch 2.13 (issue 14)
    "modified saved leaf": (_modified_saved_leaf, "RuntimeError",
                            "one of the variables needed for gradient computation has been modified by an "
                            "inplace operation: [gradkit.FloatTensor [3]] is at version 1; expected version 0 "
                            "instead. Hint: enable anomaly detection"),
    "unused input at index 1": (_unused_second_input, "RuntimeError",
                                "The differentiated Tensor at index 1 appears to not have been used in the graph."),
    "set_grad_enabled(1)": (lambda lib: lib.set_grad_enabled(1), "TypeError",
                            "set_grad_enabled(): argument 'enabled' (position 1) must be bool, not int"),
    "min of empty": (lambda lib: lib.zeros(0).min(), "RuntimeError",
                     "min(): Expected reduction dim to be specified for input.numel() == 0."),
    "max of empty": (lambda lib: lib.zeros(0).max(), "RuntimeError",
                     "max(): Expected reduction dim to be specified for input.numel() == 0."),
    "cat of nothing": (lambda lib: lib.cat([]), "ValueError", "gradkit.cat(): expected a non-empty list of Tensors"),
    "permute of too few dims": (lambda lib: lib.ones(2, 3).permute(0), "RuntimeError",
                                "permute(sparse_coo): number of dimensions in the tensor input does not match"),
    "permute of a repeated dim": (lambda lib: lib.ones(2, 3).permute(0, 0), "RuntimeError",
                                  "permute(): duplicate dims are not allowed."),
    "expand to fewer dims": (lambda lib: lib.ones(2, 3).expand(3), "RuntimeError",
                             "expand(gradkit.FloatTensor{[2, 3]}, size=[3]): the number of sizes provided (1)"),
    "prod over a tuple of dims": (lambda lib: lib.ones(2, 3).prod(dim=(0, 1)), "TypeError",
                                  "prod() received an invalid combination of arguments - got (dim=tuple, )"),
    "mm of a vector": (lambda lib: lib.mm(lib.ones(3), lib.ones(3, 2)), "RuntimeError", "self must be a matrix"),
    "mm by a vector": (lambda lib: lib.mm(lib.ones(2, 3), lib.ones(3)), "RuntimeError", "mat2 must be a matrix"),
    "& of floats": (lambda lib: lib.ones(2) & lib.ones(2), "NotImplementedError",
                    '"bitwise_and_cpu" not implemented for \'Float\''),
    "tensor @ list": (lambda lib: lib.ones(2) @ [1.0, 2.0], "TypeError",
                      "unsupported operand type(s) for @: 'Tensor' and 'list'"),
    "matmul(tensor, list)": (lambda lib: lib.matmul(lib.ones(2), [1.0, 2.0]), "TypeError",
                             "matmul(): argument 'other' (position 2) must be Tensor, not list"),
    "sum over a repeated dim": (lambda lib: lib.ones(2, 3).sum(dim=(0, 0)), "RuntimeError",
                                "dim 0 appears multiple times in the list of dims"),
    "clamp without bounds": (lambda lib: lib.ones(2).clamp(), "RuntimeError",
                             "gradkit.clamp: At least one of 'min' or 'max' must not be None"),
    "where with a float condition": (lambda lib: lib.where(lib.ones(2), lib.ones(2), lib.zeros(2)), "RuntimeError",
                                     "where expected condition to be a boolean tensor, but got a tensor with dtype "
                                     "Float"),
    "linear of float64 by float32": (lambda lib: lib.nn.functional.linear(lib.ones(2, 3, dtype=lib.float64),
                                                                          lib.ones(4, 3)),
                                     "RuntimeError", "expected m1 and m2 to have the same dtype, but got: double != float"),
    "linear of float32 by float64": (lambda lib: lib.nn.functional.linear(lib.ones(2, 3),
                                                                          lib.ones(4, 3, dtype=lib.float64)),
                                     "RuntimeError", "expected m1 and m2 to have the same dtype, but got: float != double"),
    "BCE with logits, int target": (lambda lib: lib.nn.functional.binary_cross_entropy_with_logits(
                                        lib.ones(3), lib.tensor([1, 0, 1])),
                                    "RuntimeError", "result type Float can't be cast to the desired output type Long"),
    "cross_entropy, float class target": (lambda lib: lib.nn.functional.cross_entropy(lib.ones(2, 3),
                                                                                       lib.tensor([1.0, 0.0])),
                                          "RuntimeError", "expected target dtype to be Long or Byte, but got Float"),
    "cross_entropy, int32 target": (lambda lib: lib.nn.functional.cross_entropy(
                                        lib.ones(2, 3), lib.tensor([1, 0], dtype=lib.int32)),
                                    "RuntimeError", "expected target dtype to be Long or Byte, but got Int"),
    "cross_entropy of a 0-d input": (lambda lib: lib.nn.functional.cross_entropy(lib.tensor(1.0), lib.tensor(0)),
                                     "RuntimeError",
                                     "Expected floating point type for target with class probabilities, got Long"),
    "cross_entropy, target out of bounds": (lambda lib: lib.nn.functional.cross_entropy(lib.ones(2, 3),
                                                                                        lib.tensor([1, 5])),
                                            "IndexError", "Target 5 is out of bounds."),
    "inference tensor saved": (_inference_saved, "RuntimeError",
                               "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
                               "inference mode in computation tracked by autograd."),
}

WARNINGS = {
    # name: (program, start of gradkit's first line)
    "non-leaf .grad": (_non_leaf_grad, "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed."),
    "gradcheck float32": (_gradcheck_float32, "Input #0 requires gradient and is not a double precision floating point"),
    "tensor(tensor)": (_tensor_of_tensor, "To copy construct from a tensor, it is recommended to use"),
    "var of one element": (_var_one_element, "var(): degrees of freedom is <= 0."),
    "std over one row": (_std_one_element, "std(): degrees of freedom is <= 0."),
}


def _names(table):
    return list(table)


def _hint_on_its_own_line(message):
    for line in message.split("\n")[1:]:
        if "gradkit" in line.lower() and "hint" in line.lower():
            assert line.startswith("gradkit hint: "), line


@pytest.mark.parametrize("name", list(ERRORS))
def test_gradkit_error_starts_with_pytorchs_text(name):
    program, error, start = ERRORS[name]
    with pytest.raises(Exception) as caught:
        program(gk)
    assert type(caught.value).__name__ == error
    assert str(caught.value).startswith(start), str(caught.value)
    _hint_on_its_own_line(str(caught.value))


@pytest.mark.parametrize("name", _names(ERRORS))
def test_gradkit_error_first_line_is_pytorchs(name):
    program = ERRORS[name][0]
    expected, _ = torch_outcome(program)
    got, _ = outcome(program, gk)
    assert got == expected


@pytest.mark.parametrize("name", list(WARNINGS))
def test_gradkit_warning_starts_with_pytorchs_text(name):
    program, start = WARNINGS[name]
    with pytest.warns(UserWarning) as caught:
        try:
            program(gk)
        except Exception:   # noqa: BLE001 - gradcheck may also fail; the warning is what is checked
            pass
    messages = [str(w.message) for w in caught]
    assert any(m.startswith(start) for m in messages), messages
    for m in messages:
        _hint_on_its_own_line(m)


@pytest.mark.parametrize("name", _names(WARNINGS))
def test_gradkit_warning_first_line_is_pytorchs(name):
    program = WARNINGS[name][0]
    _, expected = torch_outcome(program)
    _, got = outcome(program, gk)
    assert got == expected


QUIET = {
    # numpy warns on these; PyTorch is silent (and so must gradkit be)
    "divide by zero": lambda lib: lib.tensor([1.0, 0.0]) / lib.tensor([0.0, 0.0]),
    "log of zero and negative": lambda lib: lib.tensor([0.0, -1.0]).log(),
    "sqrt of negative": lambda lib: lib.tensor([-1.0]).sqrt(),
    "exp overflow": lambda lib: lib.tensor([100.0]).exp(),
    "multiply overflow": lambda lib: lib.tensor([3e38]) * 10,
    "zero to a negative power": lambda lib: lib.tensor([0.0]) ** -1,
    "mean of empty": lambda lib: lib.zeros(0).mean(),
    "backward through 1/x at 0": lambda lib: (1 / lib.tensor([0.0], requires_grad=True)).sum().backward(),
    "softmax of empty": lambda lib: lib.zeros(0).softmax(0),
    "log_softmax of empty rows": lambda lib: lib.zeros(2, 0).log_softmax(1),
    "softmax of 0-d": lambda lib: lib.tensor(2.0).softmax(0),
    "to float16 overflow": lambda lib: lib.tensor([1e6]).half(),
}


@pytest.mark.parametrize("name", list(QUIET))
def test_numpy_warnings_do_not_leak_where_pytorch_is_silent(name):
    with np.errstate(all="warn"):
        result, warned = outcome(QUIET[name], gk)
    assert result == ("ok", None) and warned == []
    torch_result, torch_warned = torch_outcome(QUIET[name])
    assert (torch_result, torch_warned) == (result, warned)
