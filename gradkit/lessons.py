"""The lesson notebooks: `gradkit lessons [DIR]`, and `check()` for their exercises.

    gradkit lessons              # copy the course to ./gradkit-lessons and open JupyterLab
    gradkit lessons --list       # print the course
    gradkit lessons DIR --no-browser --port 8899

Copies never overwrite a notebook you have edited: an edited copy is kept and the
fresh lesson is written beside it as NN-name.new.ipynb (unless --force).
"""
import argparse
import filecmp
import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np


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
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    return line.lstrip("# ").strip()
    return path.stem


def copy_lessons(target, force=False):
    """Copy the lessons into ``target``; returns (copied, kept) lists of file names."""
    target = pathlib.Path(target)
    target.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for src in lesson_files():
        dst = target / src.name
        if dst.exists() and not force and not filecmp.cmp(src, dst, shallow=False):
            fresh = dst.with_suffix(".new.ipynb")
            shutil.copyfile(src, fresh)
            kept.append(dst.name)
            continue
        shutil.copyfile(src, dst)
        copied.append(dst.name)
    return copied, kept


def main(argv=None):
    parser = argparse.ArgumentParser(prog="gradkit lessons", description="Copy gradkit's lessons and open them.")
    parser.add_argument("dir", nargs="?", default="gradkit-lessons", help="where to put the notebooks")
    parser.add_argument("--list", action="store_true", help="print the course and exit")
    parser.add_argument("--no-browser", action="store_true", help="start JupyterLab without opening a browser")
    parser.add_argument("--port", type=int, help="JupyterLab's port")
    parser.add_argument("--force", action="store_true", help="overwrite edited copies")
    args = parser.parse_args(argv)
    if args.list:
        for path in lesson_files():
            print(f"{path.stem[:2]}  {lesson_title(path)}")
        return 0
    copied, kept = copy_lessons(args.dir, force=args.force)
    print(f"gradkit: {len(copied)} lessons in {pathlib.Path(args.dir).resolve()}")
    for name in kept:
        print(f"  kept your edited {name}; the fresh lesson is beside it as {name[:-6]}.new.ipynb")
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


def check(prediction, actual, hint=""):
    """The answer cell of a "predict, then check" exercise.

    Prints a short confirmation when ``prediction`` matches
    ``actual`` (numbers and tensors compared with a small tolerance, anything else
    with ==); otherwise raises AssertionError saying what you predicted, what
    autograd did, and a hint.
    """
    if prediction is Ellipsis:
        raise AssertionError("Write your prediction in place of ... first, then run this cell again.")
    if _same(prediction, actual):
        print("Correct:", _show(actual))
        return None     # nothing for the notebook to echo after the cell
    message = f"Not quite. You predicted {_show(prediction)}, but autograd gives {_show(actual)}."
    if hint:
        message += f"\nHint: {hint}"
    raise AssertionError(message)


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
