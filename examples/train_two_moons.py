"""Train a small MLP on two moons, then freeze its first layer and train on.

    python examples/train_two_moons.py

Shows the whole PyTorch-style loop in gradkit: model, loss, optimizer,
zero_grad / backward / step; then that ``requires_grad_(False)`` on a layer
keeps its weights exactly as they were while the other layers keep learning.
"""
import time

import numpy as np

import gradkit as gk
import gradkit.nn.functional as F


def accuracy(model, X, y):
    with gk.no_grad():
        return (model(X).argmax(dim=1) == y).float().mean().item()


def train(model, X, y, steps, lr=0.02):
    """Full-batch Adam on cross-entropy; returns the last loss."""
    opt = gk.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
    return loss.item()


def main():
    gk.manual_seed(0)
    X, y = gk.data.two_moons(200, noise=0.1)
    model = gk.nn.MLP([2, 32, 32, 2])
    print(model)

    start = time.perf_counter()
    loss = train(model, X, y, steps=300)
    seconds = time.perf_counter() - start
    acc = accuracy(model, X, y)
    print(f"trained 300 steps in {seconds:.2f} s: loss {loss:.4f}, train accuracy {acc:.1%}")
    assert acc >= 0.97, f"expected at least 97% train accuracy, got {acc:.1%}"

    # Freeze the first layer: its parameters stop requiring grad, so backward leaves
    # their .grad at None and the optimizer skips them.
    first, last = model[0], model[-1]
    first.requires_grad_(False)
    frozen_before = first.weight.detach().numpy().copy()
    last_before = last.weight.detach().numpy().copy()
    train(model, X, y, steps=50, lr=0.05)
    unchanged = np.array_equal(first.weight.detach().numpy(), frozen_before)
    moved = float(np.abs(last.weight.detach().numpy() - last_before).max())
    print(f"after 50 more steps with model[0] frozen: first layer unchanged = {unchanged}, "
          f"last layer moved by up to {moved:.4f}, grad of model[0].weight = {first.weight.grad}")
    assert unchanged and moved > 0


if __name__ == "__main__":
    main()
