# Source: https://github.com/pytorch/tutorials/blob/v1.4.0/beginner_source/blitz/autograd_tutorial.py
# "Autograd: Automatic Differentiation", the PyTorch 1.x version of the 60 Minute Blitz autograd
# page (https://pytorch.org/tutorials/beginner/blitz/autograd_tutorial.html until 2020).
# Changed for the gradkit corpus: torch.randn is replaced by numpy numbers.
from __future__ import print_function
import torch

import numpy as np

rng = np.random.default_rng(0)

x = torch.ones(2, 2, requires_grad=True)
print(x)

y = x + 2
print(y)

print(y.grad_fn)

z = y * y * 3
out = z.mean()

print(z, out)

a = torch.tensor(rng.standard_normal((2, 2)), dtype=torch.float32)
a = ((a * 3) / (a - 1))
print(a.requires_grad)
a.requires_grad_(True)
print(a.requires_grad)
b = (a * a).sum()
print(b.grad_fn)

out.backward()

print(x.grad)

x = torch.tensor(rng.standard_normal(3), dtype=torch.float32, requires_grad=True)

y = x * 2
while y.data.norm() < 1000:
    y = y * 2

print(y)

v = torch.tensor([0.1, 1.0, 0.0001], dtype=torch.float)
y.backward(v)

print(x.grad)

print(x.requires_grad)
print((x ** 2).requires_grad)

with torch.no_grad():
    print((x ** 2).requires_grad)

print(x.requires_grad)
y = x.detach()
print(y.requires_grad)
print(x.eq(y).all())
