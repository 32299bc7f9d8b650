"""The two editions of the lessons, derived from one source.

`notebooks/` is the teacher edition: answers filled in, outputs stored, run by strict
nbval. The learner edition is derived from it by `learner_edition(nb)`:

* a cell tagged ``prediction`` becomes ``prediction = ...`` (the learner writes it);
* a cell tagged ``answer`` (the check cells, and any cell whose output would give an
  answer away) loses its outputs;
* stored widget views are removed (the widget appears when the cell runs; the SVG or
  text fallback stored beside it stays);
* every stored drawing (SVG) gets a PNG twin, because JupyterLab and Notebook 7 refuse
  to show the SVG of an untrusted notebook but do show a PNG. The PNG is rendered by
  the Graphviz engine from the DOT source that `notebooks/refresh.py` stores in the
  output's metadata (see `remember_drawing_sources`).

Notebooks are handled as plain JSON (dicts), so this needs neither nbformat nor a kernel.
"""
import base64
import copy
import json
import re

PREDICTION_TAG = "prediction"
ANSWER_TAG = "answer"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SVG, PNG = "image/svg+xml", "image/png"
BLANK_PREDICTION = "prediction = ...  # ← your prediction here, then run the check below"
_PREDICTION_LINE = re.compile(r"^prediction = .+$")


def read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write(nb, path):
    """Write a notebook the way nbformat does (1-space indent, UTF-8, trailing newline)."""
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n")


def source(cell):
    text = cell.get("source", "")
    return text if isinstance(text, str) else "".join(text)


def tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def cell_sources(nb):
    """What a learner can edit: the cells' types and sources (outputs left out)."""
    return [(c["cell_type"], source(c)) for c in nb["cells"]]


def teacher_edition(nb):
    """The teacher edition as handed out: the stored notebook without the DOT kept for derivation."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            out.get("metadata", {}).pop("gradkit", None)
    return nb


def learner_edition(nb, render_png=None):
    """The learner edition of a teacher notebook (a new dict; ``nb`` is not changed).

    render_png(dot_source) -> PNG bytes; by default the Graphviz engine gradkit draws with.
    """
    render_png = render_png or _engine_png
    nb = copy.deepcopy(nb)
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        if PREDICTION_TAG in tags(cell):
            if not _PREDICTION_LINE.match(source(cell).strip()):
                raise ValueError(f"a cell tagged {PREDICTION_TAG!r} must be one line `prediction = ...`, "
                                 f"not {source(cell)!r}")
            cell["source"] = BLANK_PREDICTION
        if ANSWER_TAG in tags(cell) or PREDICTION_TAG in tags(cell):
            cell["outputs"], cell["execution_count"] = [], None
        outputs = (_learner_output(out, render_png) for out in cell.get("outputs", []))
        cell["outputs"] = [out for out in outputs if out is not None]
    return nb


def _learner_output(out, render_png):
    data = out.get("data")
    if data is None:
        return out
    data.pop(WIDGET_VIEW, None)
    if not data:
        return None
    dot = out.get("metadata", {}).pop("gradkit", {}).get("dot")
    if SVG in data and PNG not in data and dot:
        png = render_png(dot)
        if png:
            data[PNG] = base64.b64encode(png).decode("ascii")
    return out


def _engine_png(dot):
    from .viz.engine import EngineNotFoundError, RenderError, run_engine
    try:
        return run_engine(dot, "png")
    except (EngineNotFoundError, RenderError):
        return None         # the SVG and the text summary still show in a trusted notebook


# -- used by notebooks/refresh.py inside the kernel that re-runs a lesson ----------------

def _svg_key(svg):
    """The drawing part of an SVG (shapes, coordinates, texts), the same before and after the
    display layers post-process it (the <svg> tag's size and style; ids, classes, styles, font names)."""
    start = svg.find("<g ")
    return re.sub(r'\s(?:id|class|style|font-family)="[^"]*"', "", svg[start:]) if start >= 0 else None


def remember_drawing_sources(shell):
    """Make every displayed output whose SVG came from gradkit's engine carry its DOT source.

    The DOT goes into the output's metadata (``{"gradkit": {"dot": ...}}``), which nbval
    does not compare and the learner edition turns into a PNG twin.
    """
    from .viz import engine
    sources = {}
    run_engine = engine.run_engine

    def recording_run_engine(dot_source, fmt="svg", *args, **kwargs):
        out = run_engine(dot_source, fmt, *args, **kwargs)
        if fmt == "svg":
            sources[_svg_key(out.decode("utf-8"))] = dot_source
        return out

    engine.run_engine = recording_run_engine
    format_outputs = shell.display_formatter.format

    def format_with_source(obj, include=None, exclude=None):
        data, metadata = format_outputs(obj, include=include, exclude=exclude)
        dot = sources.get(_svg_key(data[SVG])) if isinstance(data.get(SVG), str) else None
        if dot:
            metadata = dict(metadata, gradkit={"dot": dot})
        return data, metadata

    shell.display_formatter.format = format_with_source
