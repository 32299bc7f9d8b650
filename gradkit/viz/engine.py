"""Find a Graphviz engine and run it: DOT source in, SVG (or PNG) out.

`find_engine()` looks for `dot` on PATH first, then for the `graphviz-pure`
executable installed by the wheel of that name (a dependency of gradkit; it
ships a Rust port of `dot` as a console program, not a Python module). If
neither is there it raises `EngineNotFoundError`, which says what to install.
"""
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


def fit_width(svg, max_width_pt=720):
    """The same SVG with its intrinsic size capped, for static outputs.

    Notebook exports and GitHub show an SVG output as an <img> at its own size, so a
    wide graph would run off the page; the viewBox keeps the drawing intact when scaled.
    """
    match = _SIZE.search(svg)
    if not match or float(match.group(2)) <= max_width_pt:
        return svg
    width, height = float(match.group(2)), float(match.group(3))
    scale = max_width_pt / width
    return svg[:match.start()] + (f'<svg{match.group(1)} width="{width * scale:.2f}pt" '
                                   f'height="{height * scale:.2f}pt"') + svg[match.end():]


def render_svg(dot_source, engine=None):
    """DOT source -> SVG text (UTF-8), with gradkit's node and cell ids as `id` attributes."""
    svg = run_engine(dot_source, "svg", engine).decode("utf-8")
    svg = _CELL_ID.sub(r'id="\1"', svg)
    # Scale down to fit narrow pages (notebook exports, GitHub) instead of scrolling sideways.
    return svg.replace("<svg width=", '<svg style="max-width:100%;height:auto" width=', 1)
