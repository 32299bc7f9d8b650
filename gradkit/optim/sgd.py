"""Stochastic gradient descent, with PyTorch's momentum, dampening, Nesterov and weight decay."""
from .._tensor import _make
from .optimizer import Optimizer, check_positive, kernel_flags


class SGD(Optimizer):
    """p ← p − lr·g, where g is the gradient, optionally with weight decay and momentum.

    The update is PyTorch's, step for step (torch.optim.SGD)::

        g = p.grad + weight_decay·p             (−p.grad with maximize=True)
        buf = g                                 (first step)
        buf = momentum·buf + (1 − dampening)·g  (later steps)
        g = g + momentum·buf  if nesterov  else  buf
        p = p − lr·g

    Usage::

        opt = gk.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for X, y in gk.data.batches(X_all, y_all, 32):
            opt.zero_grad()
            gk.nn.functional.cross_entropy(model(X), y).backward()
            opt.step()

    Parameters without a ``.grad`` or with ``requires_grad=False`` (frozen) are left alone.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        check_positive("learning rate", lr)
        check_positive("momentum value", momentum)
        check_positive("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                                      **kernel_flags(foreach=foreach, differentiable=differentiable, fused=fused)))

    def _update(self, param, group):
        # Works on the numpy arrays in place (one pass each, like PyTorch's fused kernels);
        # each line is the PyTorch tensor call in the comment beside it.
        p = param._data
        grad = self._grad_with_decay(param, group)
        momentum = group["momentum"]
        if momentum != 0:
            state = self.state.setdefault(param, {})
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = _make(grad.copy())   # buf = grad.clone().detach()
            else:
                buf._data *= momentum                                 # buf.mul_(momentum)
                if group["dampening"]:
                    buf._data += (1 - group["dampening"]) * grad      #    .add_(grad, alpha=1 - dampening)
                else:
                    buf._data += grad                                 #    (alpha 1: no scaled copy of grad)
            if group["nesterov"]:
                grad = grad + momentum * buf._data                    # grad = grad.add(buf, alpha=momentum)
            else:
                grad = buf._data                                      # grad = buf
        p += -group["lr"] * grad                                      # p.add_(grad, alpha=-lr)
