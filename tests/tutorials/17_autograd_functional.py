# Source: https://pytorch.org/docs/stable/autograd.html#functional-higher-level-api
# The examples of torch.autograd.functional's jacobian, hessian, vjp, jvp and hvp from their API
# pages (e.g. https://pytorch.org/docs/stable/generated/torch.autograd.functional.jacobian.html).
# Changed for the gradkit corpus: torch.rand is replaced by numpy numbers.
import torch
from torch.autograd.functional import hessian, hvp, jacobian, jvp, vjp

import numpy as np

rng = np.random.default_rng(0)


def rand(*shape):
    return torch.tensor(rng.random(shape), dtype=torch.float32)


def exp_reducer(x):
    return x.exp().sum(dim=1)


inputs = rand(2, 2)
print(jacobian(exp_reducer, inputs))


def exp_adder(x, y):
    return 2 * x.exp() + 3 * y


inputs = (rand(2), rand(2))
print(jacobian(exp_adder, inputs))


def pow_reducer(x):
    return x.pow(3).sum()


inputs = rand(2, 2)
print(hessian(pow_reducer, inputs))


def pow_adder_reducer(x, y):
    return (2 * x.pow(2) + 3 * y.pow(2)).sum()


inputs = (rand(2), rand(2))
print(hessian(pow_adder_reducer, inputs))

inputs = rand(4, 4)
v = torch.ones(4)
print(vjp(exp_reducer, inputs, v))

inputs = rand(4, 4)
v = torch.ones(4, 4)
print(jvp(exp_reducer, inputs, v))

inputs = rand(2, 2)
v = torch.ones(2, 2)
print(hvp(pow_reducer, inputs, v))
