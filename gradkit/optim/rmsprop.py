"""RMSprop: divide each gradient by a running root-mean-square of its recent values."""
import numpy as np

from .optimizer import Optimizer, check_positive


class RMSprop(Optimizer):
    """RMSprop (Hinton), with PyTorch's update, step for step (torch.optim.RMSprop)::

        g = p.grad + weight_decay·p
        v = α·v + (1 − α)·g²
        avg = sqrt(v) + eps                    (centered: sqrt(v − ḡ²) + eps, ḡ = running mean of g)
        buf = momentum·buf + g / avg;  p = p − lr·buf      (momentum > 0)
        p = p − lr·g / avg                                 (otherwise)

    Usage::

        opt = gk.optim.RMSprop(model.parameters(), lr=0.01)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 maximize=False):
        check_positive("learning rate", lr)
        check_positive("epsilon value", eps)
        check_positive("momentum value", momentum)
        check_positive("weight_decay value", weight_decay)
        check_positive("alpha value", alpha)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def _update(self, param, group):
        # numpy arrays updated in place; each line is the PyTorch tensor call beside it.
        state = self._state_with_buffers(param, ["square_avg"] + ["momentum_buffer"] * (group["momentum"] > 0)
                                         + ["grad_avg"] * group["centered"])
        state["step"] += 1
        alpha = group["alpha"]
        p = param._data
        grad = self._grad_with_decay(param, group)
        square_avg = state["square_avg"]._data
        square_avg *= alpha                                       # v.mul_(alpha)
        square_avg += (1 - alpha) * (grad * grad)                 #  .addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]._data
            grad_avg += (1 - alpha) * (grad - grad_avg)           # grad_avg.lerp_(grad, 1 - alpha)
            avg = np.sqrt(square_avg - grad_avg * grad_avg)       # v.addcmul(ḡ, ḡ, value=-1).sqrt_()
        else:
            avg = np.sqrt(square_avg)                             # v.sqrt()
        avg += group["eps"]                                       # .add_(eps)
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]._data
            buf *= group["momentum"]                              # buf.mul_(momentum)
            buf += grad / avg                                     #    .addcdiv_(grad, avg)
            p += -group["lr"] * buf                               # p.add_(buf, alpha=-lr)
        else:
            p += -group["lr"] * (grad / avg)                      # p.addcdiv_(grad, avg, value=-lr)
