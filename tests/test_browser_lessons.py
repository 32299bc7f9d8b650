"""The lessons as a learner receives them, in a real browser (JupyterLab and Notebook 7 on
127.0.0.1, Debian's Chromium, Playwright): `gradkit lessons --no-launch` writes the learner
edition; lesson 2, opened before anything ran (an untrusted notebook), shows its drawings
as pictures; run top to bottom, it shows the live widget. Screenshots: test-output/browser/.
"""
import pytest

from gradkit import lessons
from jupyterlab_browser import OUT, chromium_page, jupyterlab, run_cells

pytestmark = pytest.mark.browser

LESSON_2 = next(p.name for p in lessons.lesson_files() if p.name.startswith("02"))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    work = tmp_path_factory.mktemp("course")
    assert lessons.main([str(work), "--no-launch"]) == 0
    return work


def wait_for_idle_kernel(page, timeout_ms=120000):
    """Wait until the notebook's own kernel indicator says idle (JupyterLab 4 and Notebook 7 both
    show it): keystrokes sent before the page is connected to its kernel run nothing."""
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=timeout_ms)
    page.wait_for_timeout(1000)


def drawings_shown_as_images(page):
    """How many stored drawings the page shows as a loaded <img> (PNG), and how many as SVG.

    JupyterLab renders only the cells near the viewport, so this counts what a learner sees first.
    """
    return page.evaluate("""() => {
        const imgs = Array.from(document.querySelectorAll('.jp-OutputArea-output img'))
            .filter(img => img.complete && img.naturalWidth > 50 && img.src.startsWith('data:image/png'));
        const svgs = document.querySelectorAll('.jp-OutputArea-output .jp-RenderedSVG svg, .jp-RenderedSVG img');
        return [imgs.length, svgs.length];
    }""")


def check_learner_lesson_2(page, url, name):
    page.goto(url)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60000)
    page.wait_for_selector(".jp-OutputArea-output img", timeout=60000)
    images, svgs = drawings_shown_as_images(page)
    page.screenshot(path=str(OUT / f"lessons-{name}-1-before-running.png"))
    assert images >= 1, f"{name}: the stored drawing of the untrusted learner copy is not shown as a picture"
    assert svgs == 0, f"{name}: an untrusted notebook rendered SVG: the PNG twin is what should show"
    body = page.locator(".jp-Notebook").first.inner_text()
    assert "Error displaying widget" not in body and "model not found" not in body
    assert "Correct:" not in body

    wait_for_idle_kernel(page)
    cells = page.locator(".jp-Notebook .jp-Cell")
    run_cells(page, cells.count())
    page.wait_for_selector(".gradkit-graph svg", timeout=90000)
    page.wait_for_function("""() => Array.from(document.querySelectorAll('.jp-OutputArea-output'))
        .some(e => /Make your prediction above/.test(e.textContent))""", timeout=60000)
    page.locator(".gradkit-graph").first.scroll_into_view_if_needed()
    page.screenshot(path=str(OUT / f"lessons-{name}-2-after-running.png"))
    assert page.locator(".gradkit-graph svg").first.is_visible()     # the live widget replaced the picture
    errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    assert "Error" not in " ".join(errors.all_inner_texts())


def test_learner_lesson_2_in_jupyterlab(course):
    with jupyterlab(course) as url, chromium_page() as page:
        check_learner_lesson_2(page, f"{url}/lab/tree/{LESSON_2}?reset", "lab")
        assert not page.blocked, page.blocked


def test_learner_lesson_2_in_notebook_7(course):
    pytest.importorskip("notebook", reason="[lessons] installs Notebook 7")
    with jupyterlab(course, app="notebook") as url, chromium_page() as page:
        check_learner_lesson_2(page, f"{url}/notebooks/{LESSON_2}", "notebook7")
        assert not page.blocked, page.blocked
