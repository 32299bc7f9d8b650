"""The course itself: structure, public API only, speed, and the `gradkit lessons` command."""
import ast
import json
import os
import pathlib
import re
import time

import nbformat
import pytest
from nbclient import NotebookClient

import gradkit as gk
from gradkit import lessons

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
PUBLIC_MODULES = {"gradkit", "gradkit.lessons", "gradkit.nn", "gradkit.nn.functional", "gradkit.optim",
                  "gradkit.data", "gradkit.autograd", "gradkit.widgets"}
OTHER_ALLOWED = {"numpy", "time", "math", "inspect", "warnings", "matplotlib", "matplotlib.pyplot", "statistics",
                 "random", "threading", "torch"}


def code_cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [("".join(c["source"]), c.get("metadata", {}).get("tags", [])) for c in nb["cells"]
            if c["cell_type"] == "code"]


def markdown(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def python_source(source):
    """Cell source without IPython magics, so it parses as Python."""
    if source.lstrip().startswith("%%"):
        return "\n".join(source.splitlines()[1:])
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def test_the_course_has_nine_lessons_in_order():
    assert [p.name[:2] for p in LESSONS] == ["01", "02", "03", "04", "05", "06", "07", "08", "09"]
    titles = [lessons.lesson_title(p) for p in LESSONS]
    assert all(t.startswith(f"Lesson {i}") for i, t in enumerate(titles, 1)), titles


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name[:2])
def test_lesson_structure(path):
    text = markdown(path)
    checks = sum(len(re.findall(r"\bcheck\(", src)) for src, _ in code_cells(path))
    assert checks >= 2, f"{path.name}: needs at least two predict-then-check exercises, has {checks}"
    assert re.search(r"^#+ .*summary", text, re.IGNORECASE | re.MULTILINE), f"{path.name}: no summary section"
    assert re.search(r"goal", text, re.IGNORECASE), f"{path.name}: no stated goal"
    for src, tags in code_cells(path):
        assert src.strip(), f"{path.name}: empty code cell"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name[:2])
def test_lessons_use_only_the_public_api(path):
    for src, _ in code_cells(path):
        tree = ast.parse(python_source(src))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module]
            else:
                names = []
            for name in names:
                if name.startswith("gradkit"):
                    assert name in PUBLIC_MODULES, f"{path.name} imports internal module {name}"
                else:
                    assert name in OTHER_ALLOWED, f"{path.name} imports {name}"
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                pytest.fail(f"{path.name} uses private attribute .{node.attr}")


def test_every_idea_of_the_seed_article_is_taught():
    text = "\n".join(markdown(p) + "\n".join(s for s, _ in code_cells(p)) for p in LESSONS)
    ideas = {
        "tracking is recorded when requires_grad=True": r"requires_grad=True",
        "gradients for optimization / backpropagation": r"backward\(\)",
        "the seed example": r"x \* x \+ 3",
        "model weights usually require grad": r"nn\.Linear|parameters\(\)",
        "optimizers update parameters": r"optim\.(SGD|Adam)",
        "requires_grad=False for fixed data": r"requires_grad=False",
        "evaluation / inference without tracking": r"no_grad|inference_mode",
        "saving memory and computation": r"graph_stats",
        "toggle requires_grad anytime": r"requires_grad_\(",
    }
    missing = [idea for idea, pattern in ideas.items() if not re.search(pattern, text)]
    assert not missing, f"not taught: {missing}"


def test_lessons_run_fast():
    """Each lesson under 30 s, the whole course under 3 minutes (fresh kernel each)."""
    times = {}
    for path in LESSONS:
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        NotebookClient(nb, timeout=60, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
        times[path.name] = time.perf_counter() - start
    slow = {k: round(v, 1) for k, v in times.items() if v > 30}
    assert not slow, f"lessons over 30 s: {slow}"
    assert sum(times.values()) < 180, times


def test_check_explains_a_wrong_prediction():
    with pytest.raises(AssertionError, match=r"You predicted \[2.0, 3.0\], but autograd gives tensor\(\[4., 6.\]\)"):
        lessons.check([2.0, 3.0], gk.tensor([4.0, 6.0]), hint="d(x*x)/dx = 2x")
    with pytest.raises(AssertionError, match="Hint: look at the shapes"):
        lessons.check([1.0], gk.tensor([1.0, 1.0]), hint="look at the shapes")
    assert lessons.check([4.0, 6.0], gk.tensor([4.0, 6.0])) is None
    assert lessons.check("MulBackward0", "MulBackward0") is None
    with pytest.raises(AssertionError):
        lessons.check(None, gk.tensor([1.0]))


def test_check_with_an_unanswered_prediction_reminds_and_does_not_raise(capsys):
    assert lessons.check(..., gk.tensor([4.0, 6.0]), hint="d(x*x)/dx = 2x") is None
    out = capsys.readouterr().out
    assert "make your prediction above" in out.lower() and "Correct" not in out and "4." not in out


def test_gradkit_lessons_list(capsys):
    assert lessons.main(["--list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 9 and out[0] == "01  Lesson 1: What requires_grad is"
    assert not any("`" in line for line in out)          # plain text, not markdown


def test_gradkit_lessons_copies_and_launches_jupyterlab(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(lessons.subprocess, "call", lambda cmd: calls.append(cmd) or 0)
    target = tmp_path / "course"
    assert lessons.main([str(target), "--no-browser", "--port", "8765"]) == 0
    assert sorted(p.name for p in target.glob("*.ipynb")) == [p.name for p in LESSONS]
    cmd = calls[0]
    assert "--no-browser" in cmd and "--port=8765" in cmd and f"--notebook-dir={target}" in cmd
    assert ("--allow-root" in cmd) == (os.geteuid() == 0)     # JupyterLab refuses root otherwise
    assert any(arg.endswith(f"/lab/tree/{LESSONS[0].name}") for arg in cmd)   # opens lesson 1


def _sources(path):
    return [("".join(c["source"]), c["cell_type"]) for c in json.loads(path.read_text())["cells"]]


def test_gradkit_lessons_editions_and_what_counts_as_edited(tmp_path, monkeypatch):
    monkeypatch.setattr(lessons.subprocess, "call", lambda cmd: pytest.fail(f"--no-launch launched {cmd}"))
    target = tmp_path / "course"
    assert lessons.main([str(target), "--no-launch"]) == 0
    first = target / LESSONS[0].name
    text = first.read_text()
    assert "prediction = ..." in text and "Correct:" not in text              # the learner edition

    # running and saving changes outputs only: not an edit, so a fresh copy replaces it silently
    nb = json.loads(text)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["execution_count"] = 7
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ran\n"}]
    first.write_text(json.dumps(nb))
    lessons.main([str(target), "--no-launch"])
    assert not list(target.glob("*.new.ipynb")) and '"ran\\n"' not in first.read_text()

    # a changed source is an edit: kept, and the fresh lesson lands beside it
    first.write_text(first.read_text().replace("Lesson 1", "Lesson 1 (my notes)"))
    lessons.main([str(target), "--no-launch"])
    assert "my notes" in first.read_text()
    assert (target / (LESSONS[0].stem + ".new.ipynb")).exists()
    lessons.main([str(target), "--no-launch", "--force"])
    assert "my notes" not in first.read_text()

    # --teacher over an untouched learner copy: not an edit either; the answers are back
    lessons.main([str(target), "--no-launch", "--teacher", "--force"])
    assert _sources(first) == _sources(LESSONS[0]) and "Correct:" in first.read_text()


def test_gradkit_help_and_version():
    import subprocess
    import sys
    help_text = subprocess.run([sys.executable, "-m", "gradkit", "--help"], capture_output=True, text=True).stdout
    for word in ("lessons", "--list", "--teacher", "--no-launch", "--force", "--no-browser", "--port", "--version"):
        assert word in help_text, word
    out = subprocess.run([sys.executable, "-m", "gradkit", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and re.fullmatch(r"gradkit \d+\.\d+\.\d+\S*\n", out.stdout), out
    bad = subprocess.run([sys.executable, "-m", "gradkit", "lesson"], capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown command" in bad.stderr


def test_every_readme_gradkit_command_is_accepted():
    """Each `gradkit ...` flag the README names is one the command really has."""
    readme = (NOTEBOOKS.parent / "README.md").read_text(encoding="utf-8")
    flags = set(re.findall(r"(--[a-z][a-z-]+)", " ".join(re.findall(r"`gradkit [^`]*`", readme))))
    documented = set(re.findall(r"--[a-z][a-z-]+", lessons._parser().format_help())) | {"--help", "--version"}
    assert flags and flags <= documented, flags - documented
    for flag in documented - {"--help"}:
        assert flag in readme, f"README does not document {flag}"


def test_gradkit_command_is_installed():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "gradkit", "lessons", "--list"], capture_output=True, text=True)
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 9, out.stderr


def test_a_lessons_deliberate_error_ends_at_the_learners_line():
    """In a lesson kernel (which imports gradkit.lessons) gradkit's own frames leave the traceback;
    the learner's frames stay, also inside gradkit's engine (their own backward)."""
    cells = ["import gradkit as gk\nfrom gradkit.lessons import check",
             "counts = gk.tensor([1, 2, 3], requires_grad=True)",
             "class Broken(gk.autograd.Function):\n    @staticmethod\n    def forward(ctx, x):\n        return x * 2\n"
             "    @staticmethod\n    def backward(ctx, grad):\n        return grad * missing_name\n"
             "Broken.apply(gk.tensor([1.0], requires_grad=True)).sum().backward()"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, timeout=60, kernel_name="python3", allow_errors=True).execute()
    (factory_error,), (backward_error,) = ([o for o in c.outputs if o.output_type == "error"] for c in nb.cells[1:])
    text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(factory_error.traceback))
    assert factory_error.ename == "RuntimeError" and "floating point" in factory_error.evalue
    assert "counts = gk.tensor([1, 2, 3], requires_grad=True)" in text
    assert "gradkit/" not in text and "_factories" not in text, text
    text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(backward_error.traceback))
    assert "return grad * missing_name" in text and "engine.py" not in text, text
