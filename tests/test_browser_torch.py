"""The live widget on real torch tensors in a real browser (issue 13): JupyterLab on 127.0.0.1, Chromium.

A notebook draws a torch loss with gk.show; a later cell runs ``loss.backward()`` and the drawn
``.grad`` of the parameter changes in the browser (torch's post-accumulate-grad hook), then an
optimizer step changes its value (the optimizer step hook). Screenshots go to test-output/browser/.
"""
import json

import pytest

from jupyterlab_browser import OUT, chromium_page, jupyterlab, notebook, open_notebook, run_cells

pytestmark = pytest.mark.browser
torch = pytest.importorskip("torch")

TORCH_NOTEBOOK = [
    "import torch\nimport gradkit as gk\ntorch.set_num_threads(1)",
    "w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))\nx = torch.tensor([3.0, 0.5])\n"
    "loss = (w * x).sum() ** 2\nlive = gk.show(loss, names={'w': w, 'x': x, 'loss': loss})",
]


def _field(page, label, field):
    """The text of the value or grad field of the node labelled ``label`` in the first drawing."""
    return page.evaluate("""([label, field]) => {
        const svg = document.querySelector('.gradkit-graph svg');
        for (const node of svg.querySelectorAll('g.node')) {
            const texts = Array.from(node.querySelectorAll('text')).map(t => t.textContent);
            if (texts.includes(label)) {
                const cell = svg.querySelector(`[id="${node.id}-${field}"] text`);
                return cell ? cell.textContent : null;
            }
        }
        return null;
    }""", [label, field])


def _run_new_cell(page, source):
    page.click(".jp-Notebook:visible .jp-Cell:last-child .jp-InputArea-editor")
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.type(source)
    page.keyboard.press("Shift+Enter")


def _wait_for_field(page, label, field, text):
    page.wait_for_function("""([label, field, text]) => {
        const svg = document.querySelector('.gradkit-graph svg');
        if (!svg) return false;
        for (const node of svg.querySelectorAll('g.node')) {
            const texts = Array.from(node.querySelectorAll('text')).map(t => t.textContent);
            if (texts.includes(label)) {
                const cell = svg.querySelector(`[id="${node.id}-${field}"] text`);
                return !!cell && cell.textContent === text;
            }
        }
        return false;
    }""", arg=[label, field, text], timeout=60000)


def test_torch_grads_change_in_the_browser_after_backward(tmp_path):
    (tmp_path / "torch.ipynb").write_text(json.dumps(notebook(TORCH_NOTEBOOK)))
    with jupyterlab(tmp_path) as url, chromium_page() as page:
        open_notebook(page, f"{url}/lab/tree/torch.ipynb?reset")
        run_cells(page, len(TORCH_NOTEBOOK))
        try:
            page.wait_for_selector(".gradkit-graph svg", timeout=120000)
        except Exception:
            page.screenshot(path=str(OUT / "torch-0-no-widget.png"), full_page=True)
            raise
        assert _field(page, "w", "grad") == "None"
        assert _field(page, "w", "value") == "[1., -2.]"
        page.screenshot(path=str(OUT / "torch-1-widget.png"), full_page=True)

        # d/dw (w·x)² = 2 (w·x) x = 2 * 2 * [3, 0.5]
        _run_new_cell(page, "loss.backward()")
        _wait_for_field(page, "w", "grad", "[12., 2.]")
        page.screenshot(path=str(OUT / "torch-2-after-backward.png"), full_page=True)

        _run_new_cell(page, "torch.optim.SGD([w], lr=0.25).step()")
        _wait_for_field(page, "w", "value", "[-2.0000, -2.5000]")
        page.locator(".gradkit-graph").first.screenshot(path=str(OUT / "torch-3-after-step.png"))
        assert page.blocked == [] or all("127.0.0.1" not in u for u in page.blocked)
