"""The live widget in a real browser: JupyterLab on 127.0.0.1, Debian's Chromium, Playwright.

Runs a notebook that shows GraphWidgets, then checks what a learner would see:
the graph's <svg> appears; after backward() in a new cell the grad text in the SVG
changes; clicking a leaf in "toggle requires_grad" mode changes its colour; one
backward step highlights a node. Screenshots go to test-output/browser/.
"""
import json
import time

import pytest

from jupyterlab_browser import OUT, ROOT, chromium_page, jupyterlab, notebook, open_notebook, run_cells

pytestmark = pytest.mark.browser

WIDGET_NOTEBOOK = [
    "import gradkit as gk",
    "x = gk.tensor([2.0, 3.0], requires_grad=True)\nz = (x * x + 3).sum()\nlive = gk.GraphWidget(z, names={'x': x, 'z': z})\nlive",
    "a = gk.tensor([1.0, -2.0], requires_grad=True)\nb = gk.tensor([0.5, 4.0], requires_grad=True)\n"
    "loss = (a * b).relu().sum()\nstepper = gk.GraphWidget(loss, names={'a': a, 'b': b, 'loss': loss}, step=True)\nstepper",
    "pg = gk.playground(lambda x, y: x * y + x, x=2.0, y=3.0)",
]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    work = tmp_path_factory.mktemp("lab")
    (work / "widgets.ipynb").write_text(json.dumps(notebook(WIDGET_NOTEBOOK)))
    # Lesson 2 as a learner gets it, minus the stored outputs (so every prompt starts empty).
    lesson = json.loads(next((ROOT / "notebooks").glob("02-*.ipynb")).read_text())
    for cell in lesson["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    (work / "lesson2.ipynb").write_text(json.dumps(lesson))
    with jupyterlab(work) as url:
        yield url


@pytest.fixture(scope="module")
def page(lab):
    with chromium_page() as page:
        yield page


def _grad_text(page, widget_index, leaf_label):
    """The text in the grad cell of the leaf labelled ``leaf_label`` in the n-th widget."""
    return page.evaluate("""([index, label]) => {
        const svg = document.querySelectorAll('.gradkit-graph svg')[index];
        for (const node of svg.querySelectorAll('g.node')) {
            const texts = Array.from(node.querySelectorAll('text')).map(t => t.textContent);
            if (texts.includes(label)) {
                const cell = svg.querySelector(`[id="${node.id}-grad"] text`);
                return cell ? cell.textContent : null;
            }
        }
        return null;
    }""", [widget_index, leaf_label])


def test_live_graph_in_jupyterlab(page, lab):
    open_notebook(page, f"{lab}/lab/tree/widgets.ipynb?reset")
    run_cells(page, len(WIDGET_NOTEBOOK))
    try:
        page.wait_for_selector(".gradkit-graph svg", timeout=60000)
    except Exception:
        page.screenshot(path=str(OUT / "0-no-widget.png"), full_page=True)
        raise
    page.wait_for_function("document.querySelectorAll('.gradkit-graph svg').length >= 2", timeout=60000)
    page.screenshot(path=str(OUT / "1-widgets.png"), full_page=True)
    assert _grad_text(page, 0, "x") == "None"

    # A new cell runs backward(): the drawing above must update by itself.
    page.click(".jp-Notebook:visible .jp-Cell:last-child .jp-InputArea-editor")
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    page.keyboard.press("Enter")
    page.keyboard.type("z.backward()")
    started = time.perf_counter()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function("""() => {
        const svg = document.querySelector('.gradkit-graph svg');
        return Array.from(svg.querySelectorAll('text')).some(t => t.textContent === '[4., 6.]');
    }""", timeout=30000)
    latency_ms = (time.perf_counter() - started) * 1000
    (OUT / "latency.txt").write_text(f"backward() to grads visible in the browser: {latency_ms:.0f} ms\n")
    print(f"backward() -> grads visible: {latency_ms:.0f} ms")
    assert _grad_text(page, 0, "x") == "[4., 6.]"
    page.screenshot(path=str(OUT / "2-after-backward.png"), full_page=True)

    # Toggle mode: clicking the leaf x flips requires_grad and its colour.
    first = page.locator(".gradkit-graph").first
    first.locator("button.gk-mode[data-mode='toggle']").click()
    leaf = first.locator("svg g.node", has_text="x").first
    before = leaf.locator("polygon").first.get_attribute("fill")
    leaf.click()
    page.wait_for_function("""(before) => {
        const svg = document.querySelector('.gradkit-graph svg');
        for (const node of svg.querySelectorAll('g.node')) {
            const texts = Array.from(node.querySelectorAll('text')).map(t => t.textContent);
            if (texts.includes('x')) return node.querySelector('polygon').getAttribute('fill') !== before;
        }
        return false;
    }""", arg=before, timeout=15000)
    after = first.locator("svg g.node", has_text="x").first.locator("polygon").first.get_attribute("fill")
    assert after != before
    assert "requires_grad = False" in first.locator(".gk-status").inner_text()
    page.screenshot(path=str(OUT / "3-after-toggle.png"), full_page=True)

    # Step-through: one step backward highlights a node and explains it.
    stepper = page.locator(".gradkit-graph").nth(1)
    stepper.locator("button.gk-reset").click()
    assert stepper.locator("svg .gk-active").count() == 0
    stepper.locator("button.gk-next").click()
    page.wait_for_function(
        "document.querySelectorAll('.gradkit-graph')[1].querySelectorAll('svg g.node.gk-active').length === 1",
        timeout=15000)
    status = stepper.locator(".gk-status").inner_text()
    assert status.startswith("backward step 1/")
    assert "SumBackward0" in status
    stepper.screenshot(path=str(OUT / "4-step-backward.png"))

    # The playground: sliders, a requires_grad switch per input, and its own live graph.
    playground = page.locator(".widget-vbox").filter(has=page.locator(".gradkit-graph")).last
    readout = playground.locator(".widget-html-content").first
    assert "x.grad = 4, y.grad = 2" in readout.inner_text()
    playground.locator(".widget-checkbox input").first.click()          # x.requires_grad off
    page.wait_for_function("""() => Array.from(document.querySelectorAll('.widget-html-content'))
        .some(e => e.textContent.includes('x.grad = None, y.grad = 2'))""", timeout=15000)
    assert playground.locator(".gradkit-graph svg").count() == 1
    playground.screenshot(path=str(OUT / "6-playground.png"))
    assert page.blocked == [] or all("127.0.0.1" not in u for u in page.blocked)


FIRST_GRAD = """() => {
    const notebook = Array.from(document.querySelectorAll('.jp-Notebook')).find(n => !n.closest('.lm-mod-hidden'));
    const cell = notebook.querySelector('.gradkit-graph svg [id$="-grad"] text');
    return cell ? cell.textContent : null;
}"""


def test_lesson_2_graph_updates_live(page, lab):
    """Lesson 2, run top to bottom: its graph shows grads of None, then backward() (a later cell) changes them."""
    open_notebook(page, f"{lab}/lab/tree/lesson2.ipynb?reset")     # ?reset: a fresh workspace, only this notebook
    # Record every text the first grad cell of the lesson's first graph shows, as it happens.
    page.evaluate("""(firstGrad) => {
        window.__gkSeen = [];
        const read = new Function('return (' + firstGrad + ')()');
        new MutationObserver(() => {
            const text = read();
            const seen = window.__gkSeen;
            if (text !== null && seen[seen.length - 1] !== text) seen.push(text);
        }).observe(document.body, {subtree: true, childList: true, characterData: true});
    }""", FIRST_GRAD)
    cells = page.locator(".jp-Notebook:visible .jp-Cell")
    run_cells(page, cells.count())
    try:
        page.wait_for_function("window.__gkSeen.length >= 2", timeout=60000)
    finally:
        seen = page.evaluate("window.__gkSeen")
        page.screenshot(path=str(OUT / "5-lesson2.png"))
        print("lesson 2 grad texts seen:", seen)
    page.locator(".jp-Notebook:visible .gradkit-graph").first.scroll_into_view_if_needed()
    page.screenshot(path=str(OUT / "5-lesson2.png"))
    assert seen[0] == "None", f"the lesson's graph should appear before backward(): {seen}"
    assert seen[1] != "None", f"the grads never changed in the drawing: {seen}"
