"""The learner edition (gradkit/editions.py): derived from the teacher notebooks, checked
mechanically, and run top to bottom as a learner who has not answered anything yet."""
import base64
import json
import pathlib
import re

import nbformat
import pytest
from nbclient import NotebookClient

from gradkit import editions, lessons

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def learner():
    """{lesson file name: learner-edition notebook}, built once (renders every PNG twin)."""
    return {p.name: editions.learner_edition(editions.read(p)) for p in LESSONS}


def code_cells(nb):
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def outputs_text(cell):
    """Everything a learner could read in a cell's stored outputs."""
    parts = []
    for out in cell.get("outputs", []):
        parts.append("".join(out.get("text", "")))
        parts.append(out.get("evalue", ""))
        for key, value in out.get("data", {}).items():
            if key.startswith("text/"):
                parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name[:2])
def test_teacher_notebooks_tag_every_exercise(path):
    """Derivation relies on tags: every prediction cell is tagged, and every check cell is an answer."""
    nb = editions.read(path)
    for cell in code_cells(nb):
        src, tags = editions.source(cell), editions.tags(cell)
        if re.match(r"prediction\s*=", src):
            assert tags == [editions.PREDICTION_TAG], f"{path.name}: untagged prediction {src!r}"
        if re.search(r"\bcheck\(", src):
            assert editions.ANSWER_TAG in tags, f"{path.name}: check cell not tagged answer: {src[:60]!r}"


def test_learner_edition_is_mechanically_right(learner):
    predictions = svgs = 0
    for name, nb in learner.items():
        assert "widgets" not in nb.get("metadata", {}), name
        for cell in code_cells(nb):
            src = editions.source(cell)
            if re.match(r"prediction\s*=", src):
                predictions += 1
                assert src.startswith("prediction = ...") and not cell["outputs"], (name, src)
            assert "Correct:" not in outputs_text(cell), (name, src[:60])
            for out in cell["outputs"]:
                data = out.get("data", {})
                assert editions.WIDGET_VIEW not in data, (name, src[:60])
                assert "gradkit" not in out.get("metadata", {}), "the DOT kept for derivation leaked into the copy"
                if editions.SVG in data:
                    svgs += 1
                    assert editions.PNG in data, f"{name}: a drawing without its PNG twin: {src[:60]!r}"
                    assert base64.b64decode(data[editions.PNG]).startswith(PNG_SIGNATURE)
                    assert data.get("text/plain"), "the text fallback stays"
    assert predictions >= 2 * len(LESSONS) and svgs >= 10, (predictions, svgs)


def test_answers_that_outputs_would_give_away_are_gone(learner):
    """No stored output shows a value that an exercise asks for (lesson 2's w.grad = 28 and a.grad = 8)."""
    lesson_2 = next(nb for name, nb in learner.items() if name.startswith("02"))
    text = "\n".join(outputs_text(c) for c in code_cells(lesson_2))
    assert "28." not in text and "8.0000" not in text


def test_learner_edition_of_a_small_notebook():
    """Each rule on a hand-made notebook: the PNG comes from the DOT stored beside the SVG."""
    svg_out = {"output_type": "execute_result", "execution_count": 3, "metadata": {"gradkit": {"dot": "digraph{a}"}},
               "data": {"image/svg+xml": "<svg/>", "text/plain": "graph of a"}}
    widget_out = {"output_type": "display_data", "metadata": {},
                  "data": {editions.WIDGET_VIEW: {"model_id": "x"}, "text/plain": "Playground(...)"}}
    view_only = {"output_type": "display_data", "metadata": {}, "data": {editions.WIDGET_VIEW: {"model_id": "y"}}}
    nb = {"cells": [
        {"cell_type": "code", "metadata": {"tags": ["prediction"]}, "source": "prediction = 4  # answer",
         "outputs": [], "execution_count": 1},
        {"cell_type": "code", "metadata": {"tags": ["answer"]}, "source": "check(prediction, 4)",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "Correct: 4\n"}], "execution_count": 2},
        {"cell_type": "code", "metadata": {}, "source": "gk.draw(a)", "outputs": [svg_out, widget_out, view_only],
         "execution_count": 3},
    ], "metadata": {"widgets": {}}, "nbformat": 4, "nbformat_minor": 5}
    rendered = []
    out = editions.learner_edition(nb, render_png=lambda dot: rendered.append(dot) or PNG_SIGNATURE)
    prediction, answer, drawing = out["cells"]
    assert prediction["source"] == editions.BLANK_PREDICTION
    assert answer["outputs"] == [] and answer["execution_count"] is None
    assert rendered == ["digraph{a}"]
    assert [list(o["data"]) for o in drawing["outputs"]] == [["image/svg+xml", "text/plain", "image/png"],
                                                             ["text/plain"]]
    assert "widgets" not in out["metadata"]
    assert nb["cells"][0]["source"] == "prediction = 4  # answer"      # the teacher notebook is untouched
    nb["cells"][0]["source"] = "prediction = (4,\n 5)"
    with pytest.raises(ValueError, match="prediction"):
        editions.learner_edition(nb, render_png=lambda dot: None)


def test_png_twin_rendered_by_the_engine():
    png = editions._engine_png('digraph { x -> y }')
    assert png.startswith(PNG_SIGNATURE)


@pytest.mark.slow
def test_every_learner_notebook_runs_top_to_bottom_unanswered(tmp_path, capsys):
    """Run All on an unanswered learner copy goes through: only cells tagged raises-exception raise."""
    assert lessons.main([str(tmp_path), "--no-launch"]) == 0
    capsys.readouterr()
    for path in sorted(tmp_path.glob("[0-9][0-9]-*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=120, kernel_name="python3",       # stops at the first unexpected error
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
        # (without an optional library, lesson 9 skips its remaining cells: their exercises do not run)
        ran = next((i for i, c in enumerate(nb.cells) if lessons.SKIPPED in outputs_text(c)), len(nb.cells))
        reminders = sum(lessons.UNANSWERED in outputs_text(c) for c in nb.cells if c.cell_type == "code")
        exercises = sum(1 for c in nb.cells[:ran] if "prediction" in c.metadata.get("tags", []))
        assert reminders == exercises, (path.name, reminders, exercises)
        errors = [c for c in nb.cells if any(o.output_type == "error" for o in c.get("outputs", []))]
        assert all("raises-exception" in c.metadata.get("tags", []) for c in errors), path.name
        assert "Correct:" not in json.dumps(nb), path.name


def test_refresh_stores_the_dot_of_each_drawing_for_its_png_twin():
    """notebooks/refresh.py's kernel hook: drawings and widgets carry the DOT their SVG was laid out from."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("refresh", NOTEBOOKS / "refresh.py")
    refresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(refresh)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src) for src in (
        "import gradkit as gk\nx = gk.tensor([2.0, 3.0], requires_grad=True)\nz = (x * x).sum()",
        "gk.draw(z)",
        "gk.GraphWidget(z)",
        "print('no drawing')")])
    NotebookClient(nb, timeout=60, kernel_name="python3",
                   extra_arguments=[f"--IPKernelApp.exec_lines={refresh.REMEMBER_DOT}"]).execute()
    drawing, widget = (nb.cells[i].outputs[0] for i in (1, 2))
    for out in (drawing, widget):
        assert editions.SVG in out.data and out.metadata["gradkit"]["dot"].lstrip().startswith("digraph")
    assert nb.cells[0].execution_count == 1                     # the hook took no execution count
    learner = editions.learner_edition(json.loads(nbformat.writes(nb)))
    assert all(editions.PNG in learner["cells"][i]["outputs"][0]["data"] for i in (1, 2))
