"""Grad modes: whether operations are recorded for backward.

The switch is thread-local, like PyTorch's: turning tracking off in one thread
never changes what another thread records.
"""
import functools
import inspect
import threading


class _GradState(threading.local):
    # None while operations on tensors that require grad are recorded; else what turned recording
    # off: the learner's switch ("no_grad", ...: gk.explain names it) or BY_GRADKIT (backward itself,
    # a custom Function's forward). One attribute: a thread-local costs ~5x a plain one to read.
    off_by = None
    inference = False   # inside inference_mode
    saved_hooks = ()    # (pack, unpack) pairs of active saved_tensors_hooks, innermost last


BY_GRADKIT = ""         # off_by while gradkit itself records nothing (its results are not the learner's doing)


_state = _GradState()
_leaf_hooks_in_use = [False]   # True once any leaf has had a hook: backward then counts each hooked leaf's uses
_node_hooks_in_use = [False]   # True once a non-leaf has had a hook or retain_grad(): backward then looks at each node's
_hooks_in_use = [0]     # saved_tensors_hooks open in any thread: while 0, saving skips the thread-local check


def is_grad_enabled():
    """True when operations on tensors that require grad are being recorded."""
    return _state.off_by is None


def is_inference_mode_enabled():
    return _state.inference


class _GradModeContext:
    """Base for the grad-mode switches: a context manager and a decorator."""

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]):   # used bare: @gk.no_grad
            return cls()(args[0])
        return super().__new__(cls)

    def _target(self):
        raise NotImplementedError

    label = None        # how gk.explain names results made while this switch turned recording off

    def __enter__(self):
        self._saved = (_state.inference, _state.off_by)
        enabled, _state.inference = self._target()
        _switch(self, enabled)
        return None

    def __exit__(self, *exc):
        _state.inference, _state.off_by = self._saved
        return False

    def __call__(self, func):
        if inspect.isgeneratorfunction(func):
            return self._wrap_generator(func)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with self.clone():
                return func(*args, **kwargs)
        return wrapper

    def _wrap_generator(self, func):
        """A generator runs in pieces: the mode is switched on around each piece, not just the first call."""
        @functools.wraps(func)
        def generator(*args, **kwargs):
            gen = func(*args, **kwargs)
            try:
                with self.clone():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        gen.close()
                        raise
                    except BaseException as error:     # thrown into us: pass it on, inside the mode
                        with self.clone():
                            response = gen.throw(error)
                    else:
                        with self.clone():
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value
        return generator

    def clone(self):
        return self.__class__()


def _switch(switch, enabled):
    """Recording on, or off by ``switch`` (a switch without a label leaves the reason as it was)."""
    if enabled:
        _state.off_by = None
    elif switch.label:
        _state.off_by = switch.label
    elif _state.off_by is None:
        _state.off_by = BY_GRADKIT


class no_grad(_GradModeContext):
    """Stop recording: results of operations do not require grad.

    Use it for evaluation and for updating weights by hand::

        with gk.no_grad():
            w -= lr * w.grad
    """

    label = "no_grad"

    def _target(self):
        return False, _state.inference


class enable_grad(_GradModeContext):
    """Turn recording back on inside a ``no_grad`` block or function."""

    def _target(self):
        return True, _state.inference


class inference_mode(_GradModeContext):
    """Like ``no_grad``, for pure inference; ``inference_mode(False)`` is a no-op."""

    def __init__(self, mode=True):
        self.mode = mode
        self.label = "inference_mode" if mode else None   # inference_mode(False) changes nothing

    def _target(self):
        if not self.mode:
            return _state.off_by is None, _state.inference
        return False, True

    def clone(self):
        return self.__class__(self.mode)


class set_grad_enabled(_GradModeContext):
    """``set_grad_enabled(False)`` switches recording off at once, as a call,
    or for a block when used with ``with``, or for a function as a decorator."""

    label = "set_grad_enabled(False)"

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, not {type(mode).__name__}")
        self.mode = mode
        self._before_off_by = _state.off_by
        _switch(self, mode)

    def _target(self):
        return self.mode, _state.inference

    def __enter__(self):
        # The switch already happened in __init__; restore to what was there before it.
        self._saved = (_state.inference, self._before_off_by)
        _switch(self, self.mode)
        return None

    def __call__(self, func):
        _state.off_by = self._before_off_by   # a decorator: undo the eager switch
        return super().__call__(func)

    def clone(self):
        before_off_by = _state.off_by
        new = self.__class__(self.mode)
        new._before_off_by = before_off_by
        return new
