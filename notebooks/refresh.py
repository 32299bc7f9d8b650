"""Re-run lesson notebooks and store their outputs the way the repository keeps them.

    python notebooks/refresh.py                 # every lesson
    python notebooks/refresh.py 02 05           # some lessons

Run it after a change in gradkit alters what a lesson prints (nbval compares the
stored outputs, drawings included). Outputs are stored; widget state and per-cell
timing metadata are not. Each stored drawing also keeps its DOT source in the output's
metadata (nbval ignores metadata), from which the learner edition renders a PNG twin
(gradkit/editions.py).
"""
import pathlib
import sys
import time

import nbformat
from nbclient import NotebookClient

HERE = pathlib.Path(__file__).parent
# run in the kernel before the lesson's first cell, without taking an execution count
REMEMBER_DOT = "from gradkit.editions import remember_drawing_sources; remember_drawing_sources(get_ipython())"


def refresh(path):
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(HERE)}},
                   extra_arguments=[f"--IPKernelApp.exec_lines={REMEMBER_DOT}"]).execute()
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(prefixes):
    lessons = sorted(HERE.glob("[0-9][0-9]-*.ipynb"))
    if prefixes:
        lessons = [p for p in lessons if p.name[:2] in prefixes]
    for path in lessons:
        print(f"{path.name}: {refresh(path):.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
