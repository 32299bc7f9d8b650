"""Adagrad: each weight's step shrinks with the sum of its squared gradients so far."""
import numpy as np

from .._factories import full_like
from .optimizer import Optimizer, check_positive


class Adagrad(Optimizer):
    """Adagrad (Duchi et al.), with PyTorch's update, step for step (torch.optim.Adagrad)::

        g = p.grad + weight_decay·p
        clr = lr / (1 + (t − 1)·lr_decay)
        s = s + g²                             (s starts at initial_accumulator_value)
        p = p − clr · g / (sqrt(s) + eps)

    Usage::

        opt = gk.optim.Adagrad(model.parameters(), lr=0.01)
    """

    def __init__(self, params, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10,
                 *, maximize=False):
        check_positive("learning rate", lr)
        check_positive("lr_decay value", lr_decay)
        check_positive("weight_decay value", weight_decay)
        check_positive("initial_accumulator_value value", initial_accumulator_value)
        check_positive("epsilon value", eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, maximize=maximize))
        # PyTorch makes the state of every parameter up front.
        for group in self.param_groups:
            for param in group["params"]:
                self._state_of(param, group)

    def _state_of(self, param, group):
        state = self.state[param]
        if not state:
            state.update(step=0, sum=full_like(param, group["initial_accumulator_value"]))
        return state

    def _update(self, param, group):
        state = self._state_of(param, group)
        state["step"] += 1
        p = param._data
        grad = self._grad_with_decay(param, group)
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        total = state["sum"]._data
        total += grad * grad                                      # s.addcmul_(grad, grad, value=1)
        std = np.sqrt(total)                                      # s.sqrt()
        std += group["eps"]                                       #  .add_(eps)
        p += -clr * (grad / std)                                  # p.addcdiv_(grad, std, value=-clr)
