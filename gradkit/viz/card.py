"""A tensor's notebook card: value, grad, requires_grad, is_leaf, grad_fn -- escaped HTML.

Registered from the IPython layer (the core never imports this)::

    Tensor._repr_html_ = lambda self: gradkit.viz.card.tensor_card_html(self)

The text repr stays PyTorch's exactly; the card is only the HTML alternative.
"""
from .fmt import esc, shape_text, value_text

_CSS = ("font-family:var(--jp-ui-font-family,sans-serif);font-size:12px;display:inline-block;"
        "border:1px solid #bbb;border-radius:4px;padding:4px 8px;line-height:1.5")
_MONO = "font-family:var(--jp-code-font-family,monospace)"
# JupyterLab's theme colours (Light and Dark both readable, WCAG >= 4.5), plain colours elsewhere
_MUTED = "color:var(--jp-content-font-color2,#555)"
_GRAD = "color:var(--jp-error-color1,#9c1f1f)"


def tensor_card_html(t):
    """A compact HTML card for a tensor; every text in it is escaped."""
    array = t._data
    if t.grad_fn is not None:
        kind, border = f"non-leaf · requires_grad=True · grad_fn=&lt;{esc(t.grad_fn.name())}&gt;", "#8a6d00"
    elif t._requires_grad:
        kind, border = "leaf · requires_grad=True", "#1f4e9c"
    else:
        kind, border = "leaf · requires_grad=False: not tracked", "#666"
    name = f"<b>{esc(t.name)}</b> " if t.name is not None else ""
    grad = t._grad
    if grad is not None:
        grad_html = esc(value_text(grad._data))
    elif t.grad_fn is not None and not t._retains_grad:
        grad_html = f"None <span style='{_MUTED}'>(non-leaf: not kept; call .retain_grad())</span>"
    else:
        grad_html = "None"
    style = "dashed" if not t._requires_grad else "solid"
    rows = [
        f"<div>{name}<span style='{_MUTED}'>tensor {esc(shape_text(array.shape))} {esc(array.dtype)}</span></div>",
        f"<div>data <span style='{_MONO}'>{esc(value_text(array))}</span></div>",
        f"<div style='{_GRAD}'>grad <span style='{_MONO}'>{grad_html}</span></div>",
        f"<div style='{_MUTED}'>{kind}</div>",
    ]
    return (f"<div class='gradkit-card' style='{_CSS};border-left:4px {style} {border}'>"
            + "".join(rows) + "</div>")
