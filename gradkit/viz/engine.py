"""Find a Graphviz engine and run it: DOT source in, SVG (or PNG) out.

`find_engine()` looks for `dot` on PATH first, then for the `graphviz-pure`
executable installed by the wheel of that name (a dependency of gradkit; it
ships a Rust port of `dot` as a console program, not a Python module). If
neither is there it raises `EngineNotFoundError`, which says what to install.
"""
import base64
import os
import re
import shutil
import subprocess
import sys
import sysconfig


class EngineNotFoundError(RuntimeError):
    """No Graphviz `dot` program was found to lay the graph out."""


class RenderError(RuntimeError):
    """The Graphviz engine ran but could not lay the graph out."""


NOT_FOUND_MESSAGE = (
    "gradkit could not find a Graphviz program to lay out the graph: there is no `dot` "
    "on PATH and no `graphviz-pure` executable next to this Python. Install one of them: "
    "`pip install graphviz-pure` (pure pip, no system packages), or Graphviz itself "
    "(`apt install graphviz`, `brew install graphviz`, `conda install graphviz`). "
    "Without one, `gk.draw(t).source` still gives you the DOT text."
)

_EXE = "graphviz-pure.exe" if os.name == "nt" else "graphviz-pure"


def _wheel_engine():
    """The `graphviz-pure` executable installed by pip, or None."""
    found = shutil.which("graphviz-pure")
    if found:
        return found
    # not on PATH (e.g. a venv's python run without activating it): look where pip put it
    for scripts in {sysconfig.get_path("scripts"), os.path.dirname(sys.executable)}:
        candidate = os.path.join(scripts, _EXE)
        if scripts and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    try:
        from importlib import metadata
        dist = metadata.distribution("graphviz-pure")
    except Exception:       # not installed, or metadata unreadable
        return None
    for f in dist.files or ():
        if f.name == _EXE:
            path = str(f.locate())
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return os.path.abspath(path)
    return None


def find_engine():
    """Path of the Graphviz program to run: `dot` on PATH, else graphviz-pure's; raises if neither."""
    found = shutil.which("dot")
    if found:
        return found
    found = _wheel_engine()
    if found:
        return found
    raise EngineNotFoundError(NOT_FOUND_MESSAGE)


def run_engine(dot_source, fmt="svg", engine=None, timeout=60):
    """Lay out ``dot_source`` with the engine and return the output bytes in format ``fmt``."""
    exe = engine or find_engine()
    try:
        proc = subprocess.run([exe, f"-T{fmt}"], input=dot_source.encode("utf-8"),
                              capture_output=True, timeout=timeout)
    except OSError as e:
        raise EngineNotFoundError(f"{NOT_FOUND_MESSAGE} (running {exe!r} failed: {e})") from None
    except subprocess.TimeoutExpired:
        raise RenderError(f"Graphviz ({exe}) took more than {timeout} s to lay out the graph; "
                          "draw it with a smaller max_nodes") from None
    if proc.returncode != 0 or not proc.stdout:
        message = proc.stderr.decode("utf-8", "replace").strip() or f"exit status {proc.returncode}"
        raise RenderError(f"Graphviz ({os.path.basename(exe)}) could not render the graph as {fmt}: {message}")
    return proc.stdout


# Graphviz writes the ID of an HTML-label cell as id="a_<ID>" (on the <g> around the
# cell's <a>); gradkit's cells are addressed as "gk-…", so drop the prefix.
_CELL_ID = re.compile(r'id="a_(gk(?:&#45;|-)[^"]*)"')


_SIZE = re.compile(r'<svg([^>]*?) width="([\d.]+)pt" height="([\d.]+)pt"')
_FONT_SIZE = re.compile(r'font-size="([\d.]+)"')
MIN_TEXT_PX = 10.0      # no text of a drawing is shown smaller than this at 100% zoom
PX_PER_PT = 96 / 72     # the SVG's width/height are in points; CSS pixels are 3/4 of a point


def smallest_text_px(svg):
    """The smallest text of an SVG, in CSS pixels at its intrinsic size (None if it has no text)."""
    match = _SIZE.search(svg)
    sizes = [float(s) for s in _FONT_SIZE.findall(svg)]
    if not match or not sizes:
        return None
    # Graphviz's viewBox is in points, drawn at width="..pt": one unit is one point
    view_width = float(svg.split('viewBox="', 1)[1].split()[2]) if 'viewBox="' in svg else float(match.group(2))
    return min(sizes) * float(match.group(2)) / view_width * PX_PER_PT


def fit_width(svg, max_width_pt=720):
    """The same SVG with its intrinsic size reduced towards ``max_width_pt``, for static outputs,
    but never so far that its smallest text drops below MIN_TEXT_PX: a wider graph keeps that
    size (the notebook scrolls it; `static_bundle` marks it so JupyterLab does not shrink it).
    The viewBox is untouched, so the drawing scales as a whole.
    """
    match = _SIZE.search(svg)
    smallest = smallest_text_px(svg)
    if not match or float(match.group(2)) <= max_width_pt:
        return svg
    width, height = float(match.group(2)), float(match.group(3))
    scale = max_width_pt / width
    if smallest is not None:
        scale = max(scale, MIN_TEXT_PX / smallest)
    if scale >= 1:
        return svg
    return svg[:match.start()] + (f'<svg{match.group(1)} width="{width * scale:.2f}pt" '
                                   f'height="{height * scale:.2f}pt"') + svg[match.end():]


def static_bundle(svg, text, png=None):
    """The rich-output bundle of a drawing: ``(data, metadata)`` for ``_repr_mimebundle_``.

    The SVG is `fit_width`'s; ``unconfined`` asks JupyterLab to show it at that size (scrolling
    when wider than the cell) instead of shrinking it to the cell and its text below 10 px.
    ``png`` (bytes) adds the PNG twin that untrusted notebooks show.
    """
    data = {"image/svg+xml": fit_width(svg), "text/plain": text}
    metadata = {"image/svg+xml": {"unconfined": True}}
    if png is not None:
        data["image/png"] = base64.b64encode(png).decode("ascii")
        metadata["image/png"] = {"unconfined": True}
    return data, metadata


# Graphviz measures text with Helvetica's and Courier's metrics and writes font-family="Helvetica,sans-Serif".
# A browser without Helvetica (many Linux machines, Binder: only DejaVu) would fall back to DejaVu Sans,
# about 12% wider, and texts would spill out of their boxes. The SVG itself names fonts of the same
# widths instead (so the static output, shown as an <img>, fits as well as the widget's copy).
_FONT_FAMILY = re.compile(r'font-family="(Helvetica|Courier)[^"]*"')
BROWSER_FONTS = {
    "Helvetica": "Helvetica,Arial,'Liberation Sans','Nimbus Sans','Nimbus Sans L','DejaVu Sans Condensed',sans-serif",
    "Courier": "'Courier New',Courier,'Liberation Mono','Nimbus Mono PS','DejaVu Sans Mono',monospace",
}


def render_svg(dot_source, engine=None):
    """DOT source -> SVG text (UTF-8), with gradkit's node and cell ids as `id` attributes and
    font families of Helvetica's and Courier's widths (`BROWSER_FONTS`).

    The SVG keeps its natural size (text >= 12 px): big graphs scroll rather than shrink.
    """
    svg = run_engine(dot_source, "svg", engine).decode("utf-8")
    svg = _FONT_FAMILY.sub(lambda m: f'font-family="{BROWSER_FONTS[m.group(1)]}"', svg)
    return _CELL_ID.sub(r'id="\1"', svg)


def render_png(dot_source, engine=None):
    """DOT source -> PNG bytes at 96 dpi, the SVG's natural size (the static twin of the SVG:
    untrusted notebooks show PNG, not SVG)."""
    return run_engine(dot_source, "png", engine)
