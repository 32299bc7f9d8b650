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
    so the subscription ends when its owner is collected: the reference's callback
    takes it out of the registry at once (so `has_subscribers` and the core's
    ``if _events._subscribers`` checks see only live subscribers).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; expected one of {EVENTS}")

    def drop(ref):
        _remove(event, ref)
    ref = weakref.WeakMethod(callback, drop) if hasattr(callback, "__self__") else weakref.ref(callback, drop)
    _subscribers.setdefault(event, []).append(ref)
    return lambda: _remove(event, ref)


def _remove(event, ref):
    """Take ``ref`` out (by identity; a no-op when it is already gone). May run in the middle of an
    `emit` (a collection triggered by a callback): emit walks a copy, so nothing is pulled from under it."""
    refs = _subscribers.get(event)
    if refs is None:
        return
    for i, held in enumerate(refs):
        if held is ref:
            del refs[i]
            break
    if not refs:
        _subscribers.pop(event, None)


def has_subscribers(event=None):
    return bool(_subscribers.get(event)) if event else bool(_subscribers)


def emit(event, arg):
    refs = _subscribers.get(event)
    if not refs:
        return
    for ref in tuple(refs):
        callback = ref()
        if callback is not None:
            callback(arg)
