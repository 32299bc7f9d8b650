# Source: https://d2l.ai/chapter_preliminaries/autograd.html
# Dive into Deep Learning, section 2.5 "Automatic Differentiation" (PyTorch tab). Notebook cells
# that only display a value are written as print(...). Changed for the gradkit corpus:
# torch.randn(size=()) is replaced by a numpy number.
import torch

import numpy as np

rng = np.random.default_rng(0)

# 2.5.1 A Simple Function
x = torch.arange(4.0)
print(x)

# Can also create x = torch.arange(4.0, requires_grad=True)
x.requires_grad_(True)
print(x.grad)  # The gradient is None by default

y = 2 * torch.dot(x, x)
print(y)

y.backward()
print(x.grad)

print(x.grad == 4 * x)

x.grad.zero_()  # Reset the gradient
y = x.sum()
y.backward()
print(x.grad)

# 2.5.2 Backward for Non-Scalar Variables
x.grad.zero_()
y = x * x
y.backward(gradient=torch.ones(len(y)))  # Faster: y.sum().backward()
print(x.grad)

# 2.5.3 Detaching Computation
x.grad.zero_()
y = x * x
u = y.detach()
z = u * x

z.sum().backward()
print(x.grad == u)

x.grad.zero_()
y.sum().backward()
print(x.grad == 2 * x)


# 2.5.4 Gradients and Python Control Flow
def f(a):
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


a = torch.tensor(rng.standard_normal(), dtype=torch.float32, requires_grad=True)
d = f(a)
d.backward()

print(a.grad == d / a)
