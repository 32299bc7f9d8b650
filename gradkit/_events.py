"""A tiny observer registry: how the display layers hear about changes.

The core emits events; it never imports the display code. Subscribers are held
by weak reference, so a widget that is garbage-collected stops listening by
itself and never keeps a graph alive. With no subscribers, `emit` is one dict
lookup.

Events and their argument (a tensor, or a list of tensors when one call changed many,
as optimizer.step() and zero_grad() do):
  "backward"       the tensors (leaves and retained non-leaves) whose .grad the pass changed
  "grad"           a tensor whose .grad was set or cleared
  "data"           a tensor whose values were changed in place
  "requires_grad"  a tensor whose requires_grad flag was toggled
"""
import weakref

EVENTS = ("backward", "grad", "data", "requires_grad")
_subscribers = {}   # event name -> list of weak references to callbacks


def subscribe(event, callback):
    """Call ``callback(arg)`` whenever ``event`` happens; returns an unsubscribe function.

    Bound methods are held with WeakMethod, plain functions with a weak reference,
    so the subscription ends when its owner is collected.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; expected one of {EVENTS}")
    ref = weakref.WeakMethod(callback) if hasattr(callback, "__self__") else weakref.ref(callback)
    _subscribers.setdefault(event, []).append(ref)

    def unsubscribe():
        refs = _subscribers.get(event, [])
        if ref in refs:
            refs.remove(ref)
        if not refs:
            _subscribers.pop(event, None)
    return unsubscribe


def has_subscribers(event=None):
    return bool(_subscribers.get(event)) if event else bool(_subscribers)


def emit(event, arg):
    refs = _subscribers.get(event)
    if not refs:
        return
    for ref in list(refs):
        callback = ref()
        if callback is None:
            refs.remove(ref)
        else:
            callback(arg)
    if not refs:
        _subscribers.pop(event, None)
