"""Several threads calling backward() into one leaf: every contribution is added (as in PyTorch)."""
import threading

import numpy as np
import pytest

import gradkit as gk


@pytest.mark.parametrize("repeat", range(5))
def test_eight_threads_times_forty_backward_sum_exactly(repeat):
    w = gk.ones(3, requires_grad=True)
    start = threading.Barrier(8)
    errors = []

    def work():
        try:
            start.wait()
            for _ in range(40):
                (w * 1.0).sum().backward()
        except Exception as e:          # noqa: BLE001 - reported by the assertion below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert w.grad.tolist() == [320.0, 320.0, 320.0]


def test_grad_mode_and_saved_hooks_are_per_thread():
    seen = {}
    x = gk.ones(2, requires_grad=True)

    def other():
        seen["grad_enabled"] = gk.is_grad_enabled()
        seen["recorded"] = (x * x).grad_fn is not None
        seen["packs"] = len(packs)

    packs = []
    with gk.no_grad(), gk.autograd.graph.saved_tensors_hooks(lambda t: packs.append(t) or t, lambda t: t):
        t = threading.Thread(target=other)
        t.start()
        t.join()
    assert seen == {"grad_enabled": True, "recorded": True, "packs": 0}
    np.testing.assert_array_equal(x.numpy() if not x.requires_grad else x.detach().numpy(), [1.0, 1.0])
