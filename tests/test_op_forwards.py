"""Built-in ops run forward without switching grad mode off (issue 12: two thread-local writes per
recorded op). That is right only while their forward calls no gradkit op, which would then be
recorded inside the op. These tests run a wide range of programs with every such forward watched.
"""
import contextlib
import threading

import pytest

import gradkit as gk
from gradkit.autograd.function import Function
from fuzz.compare import run_program
from fuzz.programs import generate


def _functions():
    found, stack = [], [Function]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


@contextlib.contextmanager
def forwards_watched():
    """Fail if the forward of an op with ``forward_calls_ops = False`` applies any Function."""
    watching = threading.local()        # (per thread: another thread's forward is not this one's)
    apply = Function.__dict__["apply"].__func__
    patched = {}

    def watched_apply(cls, *args):
        inside = getattr(watching, "inside", None)
        if inside:
            raise AssertionError(f"{inside[-1]}.forward called {cls.__name__}.apply: set forward_calls_ops = True")
        return apply(cls, *args)

    def watch(cls, forward):
        def watched(*args):
            if not hasattr(watching, "inside"):
                watching.inside = []
            watching.inside.append(cls.__name__)
            try:
                return forward(*args)
            finally:
                watching.inside.pop()
        return watched

    for cls in _functions():
        if "forward" in cls.__dict__ and not cls.forward_calls_ops:
            patched[cls] = cls.__dict__["forward"]
            kind = type(patched[cls])                 # staticmethod or classmethod
            setattr(cls, "forward", kind(watch(cls, patched[cls].__func__)))
    Function.apply = classmethod(watched_apply)
    try:
        yield
    finally:
        Function.apply = classmethod(apply)
        for cls, forward in patched.items():
            setattr(cls, "forward", forward)


def test_the_watch_catches_an_op_that_calls_an_op():
    class Twice(gk.ops._base.Op):
        @staticmethod
        def forward(ctx, x):
            return (x * 2)._data           # an op inside: must not go unnoticed

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

    x = gk.ones(2, requires_grad=True)
    with forwards_watched(), pytest.raises(AssertionError, match="Twice.forward called Mul.apply"):
        Twice.apply(x)
    assert Twice.apply(x).grad_fn.name() == "TwiceBackward0"     # unwatched, it runs


@pytest.mark.parametrize("first", range(0, 300, 50))
def test_no_builtin_forward_calls_an_op_in_random_programs(first):
    programs = {seed: generate(seed, gk) for seed in range(first, first + 50)}
    with forwards_watched():
        for seed, program in programs.items():
            leaked = [e for e in run_program(program, gk).events if e[0] == "AssertionError"]
            assert not leaked, f"seed {seed}: {leaked[0][1]}"
