"""F.scaled_dot_product_attention against torch 2.13 (values, grad_fn names of the output and of each
create_graph gradient, second derivatives or PyTorch's refusal of them), and what it promises without torch."""
import numpy as np
import pytest

import gradkit as gk
from torch_twin import in_gradkit_words, near

F = gk.nn.functional

CASES = ["4-D", "causal", "bool mask", "float mask", "scale", "3-D", "2-D", "longer keys, wider values",
         "float64", "query constant", "keys broadcast", "dropout 0 in the math path"]


def _attention(lib, case):
    rng = np.random.default_rng(0)

    def t(*shape, dtype=np.float32):
        return lib.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
    q, k, v = t(2, 3, 4, 5), t(2, 3, 4, 5), t(2, 3, 4, 5)
    options = {"causal": {"is_causal": True}, "scale": {"scale": 0.3},
               "bool mask": {"attn_mask": lib.ones(4, 4, dtype=lib.bool).tril()},
               "float mask": {"attn_mask": lib.tensor(rng.standard_normal((4, 4)).astype(np.float32))},
               "longer keys, wider values": {"is_causal": True}}.get(case, {})
    if case == "3-D":
        q, k, v = q[0], k[0], v[0]
    elif case == "2-D":
        q, k, v = q[0, 0], k[0, 0], v[0, 0]
    elif case == "longer keys, wider values":
        k, v = t(2, 3, 6, 5), t(2, 3, 6, 7)
    elif case == "float64":
        q, k, v = (t(2, 3, 4, 5, dtype=np.float64) for _ in range(3))
    elif case == "query constant":
        q = q.detach()
    elif case == "keys broadcast":
        k, v = k[:1], v[:1]
    elif case == "dropout 0 in the math path":
        q, k, v = q[0], k[0], v[0]
        options = {"dropout_p": 0.0}
    out = F.scaled_dot_product_attention(q, k, v, **options) if lib is gk else \
        lib.nn.functional.scaled_dot_product_attention(q, k, v, **options)
    weights = lib.arange(1, out.numel() + 1, dtype=out.dtype).reshape(out.shape) / out.numel()
    wanted = [x for x in (q, k, v) if x.requires_grad]
    grads = lib.autograd.grad((out * weights).sum(), wanted, create_graph=True)
    seen = [out.grad_fn.name(), out.detach().numpy().astype(np.float64),
            [(g.grad_fn.name(), g.detach().numpy().astype(np.float64)) for g in grads]]
    try:
        (second,) = lib.autograd.grad(sum((g * g).sum() for g in grads), wanted[0])
        seen.append(second.numpy().astype(np.float64))
    except RuntimeError as error:
        seen.append(in_gradkit_words(str(error)))
    return seen


@pytest.mark.parametrize("case", CASES)
def test_attention_does_what_torch_does(case):
    torch = pytest.importorskip("torch")
    ours, theirs = _attention(gk, case), _attention(torch, case)
    assert near(ours, theirs, atol=1e-6), f"{case}:\n gradkit {ours}\n torch   {theirs}"


# ------------------------------------------------------------------ without torch
def test_attention_is_softmax_of_scaled_scores_times_values():
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((2, 1, 3, 4)) for _ in range(3))
    scores = q @ np.swapaxes(k, -1, -2) / 2.0                    # scale 1/sqrt(4)
    weights = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    out = F.scaled_dot_product_attention(*(gk.tensor(a) for a in (q, k, v)))
    assert np.allclose(out.numpy(), weights @ v)


def test_causal_attention_never_looks_ahead():
    """Changing the last position's key and value changes no earlier output, nor their gradients."""
    rng = np.random.default_rng(2)
    q, k, v = (gk.tensor(rng.standard_normal((1, 2, 5, 3)), requires_grad=True) for _ in range(3))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    out[..., :4, :].sum().backward()
    assert not k.grad[..., 4, :].numpy().any() and not v.grad[..., 4, :].numpy().any()
    k2, v2 = k.detach().clone(), v.detach().clone()
    k2[..., 4, :] += 10
    v2[..., 4, :] -= 10
    again = F.scaled_dot_product_attention(q.detach(), k2, v2, is_causal=True)
    assert np.allclose(again[..., :4, :].numpy(), out[..., :4, :].detach().numpy())


def test_attention_gradients_match_finite_differences_on_the_math_path():
    rng = np.random.default_rng(3)
    q, k, v = (gk.tensor(rng.standard_normal((3, 4)), requires_grad=True) for _ in range(3))
    assert gk.autograd.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (q, k, v))
    assert gk.autograd.gradgradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v), (q, k, v))


def test_attention_gradients_match_finite_differences_on_the_cpu_kernel():
    rng = np.random.default_rng(4)
    q, k, v = (gk.tensor(rng.standard_normal((1, 2, 3, 4)), requires_grad=True) for _ in range(3))
    out = F.scaled_dot_product_attention(q, k, v)
    assert out.grad_fn.name() == "ScaledDotProductFlashAttentionForCpuBackward0"
    assert gk.autograd.gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), (q, k, v))
