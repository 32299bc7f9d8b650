"""Binder's environment, rebuilt from binder/ alone: a fresh venv installs the repository
the way repo2docker does (pip install -r binder/requirements.txt from the repository
root) and runs lesson 1 under strict nbval."""
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _tracked_files():
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout: cannot tell which files Binder would see")
    return [line for line in out.stdout.splitlines() if line]


@pytest.mark.slow
def test_binder_builds_and_runs_lesson_1(tmp_path):
    repo = tmp_path / "repo"
    for name in _tracked_files():
        src = ROOT / name
        if src.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def run(*args):
        result = subprocess.run([str(python), *args], cwd=repo, env=env, capture_output=True, text=True)
        assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        return result.stdout

    run("-m", "pip", "install", "--quiet", "-r", "binder/requirements.txt")
    run("-m", "pip", "install", "--quiet", "pytest", "nbval")
    lesson = sorted((repo / "notebooks").glob("01-*.ipynb"))[0]
    out = run("-m", "pytest", "-p", "no:cacheprovider", str(lesson.relative_to(repo)))
    assert " passed" in out and "failed" not in out
    # the installed gradkit is the repository's, and it found a Graphviz engine from pip alone
    run("-c", "import gradkit as gk; x = gk.tensor([2., 3.], requires_grad=True); gk.draw((x * x).sum()).svg()")
