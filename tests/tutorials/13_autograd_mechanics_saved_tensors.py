# Source: https://pytorch.org/docs/stable/notes/autograd.html
# "Autograd mechanics" notes: the code of "Saved tensors" and "Hooks for saved tensors"
# (torch.autograd.graph.saved_tensors_hooks). Changed for the gradkit corpus: torch.randn is
# replaced by numpy numbers.
import torch

import numpy as np

rng = np.random.default_rng(0)

# Saved tensors
x = torch.tensor(rng.standard_normal(5), dtype=torch.float32, requires_grad=True)
y = x.pow(2)
print(x.equal(y.grad_fn._saved_self))  # True
print(x is y.grad_fn._saved_self)  # True

y = x.exp()
print(y.equal(y.grad_fn._saved_result))  # True
print(y is y.grad_fn._saved_result)  # False


# Hooks for saved tensors
def pack_hook(x):
    print("Packing", x)
    return x


def unpack_hook(x):
    print("Unpacking", x)
    return x


a = torch.ones(5, requires_grad=True)
b = torch.ones(5, requires_grad=True) * 2
with torch.autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook):
    y = a * b

y.sum().backward()
print(a.grad, b.grad)
