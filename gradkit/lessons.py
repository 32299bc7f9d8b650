"""The lesson notebooks: `gradkit lessons [DIR]`, and `check()` for their exercises.

    gradkit lessons                  # learner edition into ./gradkit-lessons, then JupyterLab
    gradkit lessons DIR --no-launch  # copy only (a teacher preparing a class, a test)
    gradkit lessons --teacher        # the teacher edition: answers and all outputs
    gradkit lessons --list           # print the course

A copy you edited (a cell's source changed; running and saving does not count) is never
overwritten: the fresh lesson is written beside it as NN-name.new.ipynb (unless --force).
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import types

import numpy as np

from . import editions


def lessons_dir():
    """Where the lesson notebooks are: inside the installed package, or the repository's notebooks/."""
    here = pathlib.Path(__file__).parent
    for candidate in (here / "lessons_data", here.parent / "notebooks"):
        if candidate.is_dir() and any(candidate.glob("[0-9][0-9]-*.ipynb")):
            return candidate
    raise FileNotFoundError("gradkit's lesson notebooks are missing from this installation")


def lesson_files():
    return sorted(lessons_dir().glob("[0-9][0-9]-*.ipynb"))


def lesson_title(path):
    """The first markdown heading of a notebook."""
    cells = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] == "markdown":
            for line in editions.source(cell).splitlines():
                if line.startswith("#"):
                    return line.lstrip("# ").strip()
    return path.stem


def _is_edited(path, fresh_editions):
    """True when a cell's source differs from every edition of the lesson (outputs do not count)."""
    try:
        sources = editions.cell_sources(editions.read(path))
    except (OSError, ValueError, KeyError, TypeError):
        return True             # not a notebook we wrote: keep it
    return all(sources != editions.cell_sources(nb) for nb in fresh_editions)


def copy_lessons(target, teacher=False, force=False):
    """Write the learner (or teacher) edition into ``target``; returns (copied, kept) lists of file names."""
    target = pathlib.Path(target)
    target.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for src in lesson_files():
        stored = editions.read(src)
        learner = editions.learner_edition(stored)
        teacher_nb = editions.teacher_edition(stored)
        fresh = teacher_nb if teacher else learner
        dst = target / src.name
        if dst.exists() and not force and _is_edited(dst, (learner, teacher_nb)):
            editions.write(fresh, dst.with_suffix(".new.ipynb"))
            kept.append(dst.name)
            continue
        editions.write(fresh, dst)
        copied.append(dst.name)
    return copied, kept


def _parser():
    parser = argparse.ArgumentParser(
        prog="gradkit lessons",
        description="Copy gradkit's lesson notebooks into DIR and open them in JupyterLab. "
                    "Learners get blank predictions; an edited copy is never overwritten.")
    parser.add_argument("dir", nargs="?", default="gradkit-lessons",
                        help="where to put the notebooks (default: ./gradkit-lessons)")
    parser.add_argument("--list", action="store_true", help="print the course and exit")
    parser.add_argument("--teacher", action="store_true",
                        help="copy the teacher edition (answers filled in, every output stored)")
    parser.add_argument("--no-launch", action="store_true", help="copy the notebooks and exit")
    parser.add_argument("--force", action="store_true", help="overwrite copies you edited")
    parser.add_argument("--no-browser", action="store_true", help="start JupyterLab without opening a browser")
    parser.add_argument("--port", type=int, metavar="N", help="JupyterLab's port")
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    if args.list:
        for path in lesson_files():
            print(f"{path.stem[:2]}  {lesson_title(path).replace('`', '')}")
        return 0
    copied, kept = copy_lessons(args.dir, teacher=args.teacher, force=args.force)
    edition = "teacher" if args.teacher else "learner"
    print(f"gradkit: {len(copied) + len(kept)} lessons ({edition} edition) in {pathlib.Path(args.dir).resolve()}")
    for name in kept:
        print(f"  kept your edited {name}; the fresh lesson is beside it as {name[:-6]}.new.ipynb")
    if args.no_launch:
        print(f"  open them with: jupyter lab {args.dir}   (or: jupyter notebook {args.dir})")
        return 0
    command = [sys.executable, "-m", "jupyter", "lab", f"--notebook-dir={args.dir}"]
    if args.no_browser:
        command.append("--no-browser")
    if args.port:
        command.append(f"--port={args.port}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")          # containers and Binder-like machines run as root

    first = lesson_files()[0].name
    command.append(f"--LabApp.default_url=/lab/tree/{first}")
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0


def _without_gradkit_frames(tb):
    """The traceback ``tb`` with gradkit's own frames left out (the learner's frames kept, in order)."""
    package = os.path.dirname(os.path.abspath(__file__)) + os.sep
    kept = []
    while tb is not None:
        if not os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(package):
            kept.append(tb)
        tb = tb.tb_next
    rebuilt = None
    for entry in reversed(kept):
        rebuilt = types.TracebackType(rebuilt, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return rebuilt


def _show_without_gradkit_frames(shell, etype, value, tb, tb_offset=None):
    shell.showtraceback((etype, value, _without_gradkit_frames(tb)), tb_offset=tb_offset)


def end_errors_at_the_learners_line():
    """In an IPython kernel, show errors without gradkit's internal frames.

    A lesson that makes an error on purpose then shows what PyTorch users see: their own
    line and the message. Called when a lesson imports this module; outside IPython it
    does nothing, and the core never imports IPython.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and not shell.custom_exceptions:      # never replace someone else's handler
        shell.set_custom_exc((Exception,), _show_without_gradkit_frames)


def check(prediction, actual, hint=""):
    """The answer cell of a "predict, then check" exercise.

    With ``prediction = ...`` (not answered yet) it prints a reminder and returns, so
    Run All goes through an unanswered lesson. A prediction that matches ``actual``
    (numbers and tensors compared with a small tolerance, anything else with ==) prints
    a short confirmation; a wrong one raises AssertionError saying what you predicted,
    what autograd did, and a hint.
    """
    if prediction is Ellipsis:
        print(UNANSWERED)
        return None
    if _same(prediction, actual):
        print("Correct:", _show(actual))
        return None     # nothing for the notebook to echo after the cell
    message = f"Not quite. You predicted {_show(prediction)}, but autograd gives {_show(actual)}."
    if hint:
        message += f"\nHint: {hint}"
    raise AssertionError(message)


UNANSWERED = "Make your prediction above (replace the ...), then run this cell again."


SKIPPED = "The remaining cells of this notebook are skipped."


def optional_import(name):
    """A lesson's optional library (lesson 9 needs PyTorch): the module, or None when it is not
    installed, after printing a note and making the notebook's remaining cells do nothing, so that
    Run All ends cleanly instead of failing on every cell."""
    import importlib
    try:
        return importlib.import_module(name)
    except ImportError:
        print(f"This lesson needs {name}, which is not installed here (pip install {name}). {SKIPPED}")
        from IPython import get_ipython
        ip = get_ipython()
        if ip is not None:
            ip.input_transformers_cleanup.append(lambda lines: ["pass\n"])
        return None


def _as_comparable(x):
    from ._tensor import Tensor
    if isinstance(x, Tensor):
        return x._data
    return x


def _same(a, b):
    a, b = _as_comparable(a), _as_comparable(b)
    if a is None or b is None:
        return a is b
    if isinstance(a, (str, bool)) or isinstance(b, (str, bool)):
        return type(a) is type(b) and a == b
    try:
        a_arr, b_arr = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return a == b
    return a_arr.shape == b_arr.shape and bool(np.allclose(a_arr, b_arr, rtol=1e-4, atol=1e-6))


def _show(x):
    return repr(x)


end_errors_at_the_learners_line()
