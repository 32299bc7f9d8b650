"""no_grad, enable_grad, set_grad_enabled, inference_mode: context managers, decorators, thread-local."""
import threading

import pytest

import gradkit as gk

MODES_OFF = [gk.no_grad, lambda: gk.set_grad_enabled(False), gk.inference_mode]


@pytest.mark.parametrize("mode", MODES_OFF)
def test_context_manager_stops_recording(mode):
    x = gk.tensor([1.0], requires_grad=True)
    with mode():
        assert not gk.is_grad_enabled()
        y = x * 2
    assert gk.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert (x * 2).requires_grad


@pytest.mark.parametrize("mode", MODES_OFF)
def test_decorator_stops_recording(mode):
    @mode()
    def double(t):
        assert not gk.is_grad_enabled()
        return t * 2

    assert not double(gk.tensor([1.0], requires_grad=True)).requires_grad
    assert gk.is_grad_enabled()


@pytest.mark.parametrize("mode", [gk.no_grad, gk.enable_grad, gk.inference_mode])
def test_bare_decorator(mode):
    @mode
    def f(t):
        return t * 2
    x = gk.tensor([1.0], requires_grad=True)
    assert f(x).requires_grad == (mode is gk.enable_grad)


def test_enable_grad_inside_no_grad_as_context_and_decorator():
    x = gk.tensor([1.0], requires_grad=True)

    @gk.enable_grad()
    def tracked(t):
        return t * 2

    with gk.no_grad():
        with gk.enable_grad():
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
        assert tracked(x).requires_grad
        assert not gk.is_grad_enabled()


def test_set_grad_enabled_as_a_plain_call():
    gk.set_grad_enabled(False)
    try:
        assert not gk.is_grad_enabled()
        assert not (gk.tensor([1.0], requires_grad=True) * 2).requires_grad
    finally:
        gk.set_grad_enabled(True)
    assert gk.is_grad_enabled()
    with gk.set_grad_enabled(True):
        assert gk.is_grad_enabled()


def test_modes_restore_after_an_exception():
    with pytest.raises(ValueError):
        with gk.no_grad():
            raise ValueError
    assert gk.is_grad_enabled()


def test_inference_mode_false_is_a_no_op():
    with gk.inference_mode(False):
        assert gk.is_grad_enabled() and not gk.is_inference_mode_enabled()
    with gk.inference_mode():
        assert gk.is_inference_mode_enabled()
    assert not gk.is_inference_mode_enabled()


def test_backward_switches_recording_off_for_itself_and_gives_the_learners_switch_back():
    """Grad mode is one thread-local reason (None = recording): backward's own "off" must neither
    leak out nor pass for the learner's no_grad, which gk.explain names."""
    x = gk.ones(2, requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append((gk.is_grad_enabled(), (g * 2)._made_in)))
    (x * 3).sum().backward()
    with gk.no_grad():
        y = (x * 3).sum()
    z = (x * 3).sum()
    with gk.no_grad():
        z.backward()
        assert not gk.is_grad_enabled()
        assert (x * 2)._made_in == "no_grad"          # the learner's switch, back after backward
    assert gk.is_grad_enabled()
    assert seen == [(False, None), (False, None)]   # inside backward: off, but not by the learner
    assert y._made_in == "no_grad" and not y.requires_grad
    with gk.set_grad_enabled(False):
        assert not gk.is_grad_enabled()
        with gk.enable_grad():
            assert (x * 2).requires_grad and (x * 2)._made_in is None
        assert (x * 2)._made_in == "set_grad_enabled(False)"


@pytest.mark.parametrize("mode", MODES_OFF)
def test_grad_mode_is_thread_local(mode):
    seen = {}
    started, release = threading.Event(), threading.Event()

    def worker():
        seen["before"] = gk.is_grad_enabled()
        with mode():
            started.set()
            release.wait(5)
            seen["inside"] = gk.is_grad_enabled()

    with mode():                      # off here must not turn it off in a fresh thread
        t = threading.Thread(target=lambda: seen.setdefault("other", gk.is_grad_enabled()))
        t.start()
        t.join()
    w = threading.Thread(target=worker)
    w.start()
    assert started.wait(5)
    assert gk.is_grad_enabled()       # the worker's block does not leak into this thread
    assert (gk.tensor([1.0], requires_grad=True) * 2).requires_grad
    release.set()
    w.join()
    assert seen == {"other": True, "before": True, "inside": False}
