# Source: https://pytorch.org/tutorials/beginner/blitz/autograd_tutorial.html
# "A Gentle Introduction to torch.autograd" (Deep Learning with PyTorch: A 60 Minute Blitz):
# the "Differentiation in Autograd" and "Exclusion from the DAG" code. Changed for the gradkit
# corpus: torch.rand is replaced by numpy numbers; the torchvision resnet18 fine-tuning part is
# left out (torchvision is out of scope), its freezing steps are kept on a small nn.Sequential.
import torch
from torch import nn, optim

import numpy as np

rng = np.random.default_rng(0)

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)

Q = 3*a**3 - b**2

external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)

# check if collected gradients are correct
print(9*a**2 == a.grad)
print(-2*b == b.grad)

x = torch.tensor(rng.random((5, 5)), dtype=torch.float32)
y = torch.tensor(rng.random((5, 5)), dtype=torch.float32)
z = torch.tensor(rng.random((5, 5)), dtype=torch.float32, requires_grad=True)

a = x + y
print(f"Does `a` require gradients?: {a.requires_grad}")
b = x + z
print(f"Does `b` require gradients?: {b.requires_grad}")



class SmallNet(nn.Module):
    """(gradkit corpus) stands in for resnet18: a body, then the `fc` classifier."""

    def __init__(self):
        super().__init__()
        self.body = nn.Linear(5, 512)
        self.fc = nn.Linear(512, 1000)

    def forward(self, x):
        return self.fc(self.body(x).relu())


def same_weights(module):
    """(gradkit corpus) the same weights on both libraries, from numpy."""
    with torch.no_grad():
        for param in module.parameters():
            param.copy_(torch.tensor(rng.uniform(-0.1, 0.1, size=tuple(param.shape)), dtype=torch.float32))


model = SmallNet()
same_weights(model)

# Freeze all the parameters in the network
for param in model.parameters():
    param.requires_grad = False

model.fc = nn.Linear(512, 10)
same_weights(model.fc)

# Optimize only the classifier
optimizer = optim.SGD(model.parameters(), lr=1e-2, momentum=0.9)

# (gradkit corpus) one step shows that only the classifier learns
model(x).sum().backward()
optimizer.step()
print(model.body.weight.grad is None, model.fc.weight.grad.shape)
