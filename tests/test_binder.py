"""Binder's environment, rebuilt from binder/ alone: a fresh venv installs the repository
the way repo2docker does (pip install -r binder/requirements.txt from the repository
root, then binder/postBuild), and the learner edition of lesson 1 that the badge opens
runs top to bottom."""
import json
import os
import pathlib
import re
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
    # repo2docker runs postBuild from the repository root, with the environment's python first on PATH
    post = subprocess.run(["bash", "binder/postBuild"], cwd=repo, capture_output=True, text=True,
                          env=dict(env, PATH=f"{venv / 'bin'}:{env.get('PATH', '')}"))
    assert post.returncode == 0, post.stdout + post.stderr
    badge = re.search(r"urlpath=lab/tree/([^)\s]+)", (repo / "README.md").read_text()).group(1)
    lesson = repo / badge
    assert lesson.exists(), f"the Binder badge opens {badge}, which postBuild did not write"
    text = lesson.read_text()
    assert "prediction = ..." in text and "Correct:" not in text       # the learner edition
    run("-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", str(lesson.relative_to(repo)),
        "--output", str(tmp_path / "ran.ipynb"))      # raises-exception cells may raise, no other may
    ran = json.loads((tmp_path / "ran.ipynb").read_text())
    printed = "".join("".join(o.get("text", "")) for c in ran["cells"] for o in c.get("outputs", []))
    assert "Make your prediction above" in printed and "Correct:" not in printed
    # the installed gradkit is the repository's, and it found a Graphviz engine from pip alone
    run("-c", "import gradkit as gk; x = gk.tensor([2., 3.], requires_grad=True); gk.draw((x * x).sum()).svg()")
