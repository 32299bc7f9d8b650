"""Adam and AdamW: per-parameter step sizes from running averages of the gradient and its square."""
import math

import numpy as np

from .optimizer import Optimizer, check_positive


class Adam(Optimizer):
    """Adam (Kingma & Ba), with PyTorch's update, step for step (torch.optim.Adam)::

        g = p.grad + weight_decay·p          (or, decoupled: p = p·(1 − lr·weight_decay))
        m = m + (1 − β1)·(g − m)             (a lerp towards g)
        v = β2·v + (1 − β2)·g²
        v_max = max(v_max, v)                (amsgrad=True: the denominator never shrinks)
        denom = sqrt(v) / sqrt(1 − β2^t) + eps
        p = p − lr / (1 − β1^t) · m / denom

    Usage::

        opt = gk.optim.Adam(model.parameters(), lr=0.01)
        opt.zero_grad(); loss.backward(); opt.step()

    Parameters without a ``.grad`` or with ``requires_grad=False`` (frozen) are left alone.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        check_positive("learning rate", lr)
        check_positive("epsilon value", eps)
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        check_positive("weight_decay value", weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, param, group):
        # Works on the numpy arrays in place (like PyTorch's fused kernels); each line is
        # the PyTorch tensor call in the comment beside it.
        beta1, beta2 = group["betas"]
        state = self._state_with_buffers(param, ["exp_avg", "exp_avg_sq"] + ["max_exp_avg_sq"] * group["amsgrad"])
        state["step"] += 1
        step = state["step"]
        p = param._data
        grad = self._grad_with_decay(param, group)
        if group["decoupled_weight_decay"] and group["weight_decay"] != 0:
            p *= 1 - group["lr"] * group["weight_decay"]          # p.mul_(1 - lr * wd)
        m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
        m += (1 - beta1) * (grad - m)                             # m.lerp_(grad, 1 - beta1)
        v *= beta2                                                # v.mul_(beta2)
        v += (1 - beta2) * (grad * grad)                          #  .addcmul_(grad, grad, value=1 - beta2)
        if group["amsgrad"]:
            v = np.maximum(state["max_exp_avg_sq"]._data, v, out=state["max_exp_avg_sq"]._data)
        step_size = group["lr"] / (1 - beta1 ** step)
        denom = np.sqrt(v) / math.sqrt(1 - beta2 ** step)         # (v.sqrt() / sqrt(bias_correction2))
        denom += group["eps"]                                     #     .add_(eps)
        p += -step_size * (m / denom)                             # p.addcdiv_(m, denom, value=-step_size)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): the decay shrinks the weights
    directly, ``p = p·(1 − lr·weight_decay)``, instead of being added to the gradient, so
    Adam's per-weight scaling does not weaken it. Default ``weight_decay=1e-2``, as in PyTorch.

        opt = gk.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)
