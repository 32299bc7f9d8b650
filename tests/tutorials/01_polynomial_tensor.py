# Source: https://pytorch.org/tutorials/beginner/examples_tensor/polynomial_tensor.html
# "PyTorch: Tensors" from Learning PyTorch with Examples: a third order polynomial fitted to sin(x)
# with gradients computed by hand. Changed for the gradkit corpus: the random starting weights
# come from numpy so that torch and gradkit start from the same numbers.
import torch
import math

import numpy as np

rng = np.random.default_rng(0)

dtype = torch.float
device = torch.device("cpu")
# device = torch.device("cuda:0") # Uncomment this to run on GPU

# Create random input and output data
x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)

# Randomly initialize weights
a = torch.tensor(rng.standard_normal(), device=device, dtype=dtype)
b = torch.tensor(rng.standard_normal(), device=device, dtype=dtype)
c = torch.tensor(rng.standard_normal(), device=device, dtype=dtype)
d = torch.tensor(rng.standard_normal(), device=device, dtype=dtype)

learning_rate = 1e-6
for t in range(2000):
    # Forward pass: compute predicted y
    y_pred = a + b * x + c * x ** 2 + d * x ** 3

    # Compute and print loss
    loss = (y_pred - y).pow(2).sum().item()
    if t % 100 == 99:
        print(t, loss)

    # Backprop to compute gradients of a, b, c, d with respect to loss
    grad_y_pred = 2.0 * (y_pred - y)
    grad_a = grad_y_pred.sum()
    grad_b = (grad_y_pred * x).sum()
    grad_c = (grad_y_pred * x ** 2).sum()
    grad_d = (grad_y_pred * x ** 3).sum()

    # Update weights using gradient descent
    a -= learning_rate * grad_a
    b -= learning_rate * grad_b
    c -= learning_rate * grad_c
    d -= learning_rate * grad_d


print(f'Result: y = {a} + {b} x + {c} x^2 + {d} x^3')
