"""JupyterLab on 127.0.0.1 driven by Playwright in Debian's Chromium: shared by the browser tests.

`jupyterlab(work)` starts a server on a free loopback port with its own workspace and
settings dirs (``work / "settings"``) and Binder's JupyterLab settings (binder/overrides.json:
no "Jupyter news?" toast over the page), and yields its URL; `chromium_page()` yields a
Playwright page whose requests to any non-local host are aborted (recorded in
``page.blocked``); `wait_until_run(page)` waits for the notebook's cells to finish;
`switch_theme(page, "JupyterLab Dark")` changes the theme from the command palette.
"""
import contextlib
import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = pathlib.Path(__file__).resolve().parent.parent
BINDER_OVERRIDES = ROOT / "binder" / "overrides.json"
OUT = ROOT / "test-output" / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def need_browser():
    if shutil.which(CHROMIUM) is None and not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); CI always runs this test")
    return pytest.importorskip("playwright.sync_api")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def notebook(cells):
    """A notebook of code cells with empty outputs."""
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": src}
                  for src in cells],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    }


def app_settings(work):
    """JupyterLab's application settings dir for a server on ``work``: the environment's own (if
    any), with Binder's overrides.json put in, as binder/postBuild does on Binder."""
    from jupyterlab.commands import get_app_dir
    target = work / ".app-settings"           # (hidden: not listed in the file browser)
    default = pathlib.Path(get_app_dir()) / "settings"
    if default.is_dir():
        shutil.copytree(default, target, dirs_exist_ok=True)
    target.mkdir(exist_ok=True)
    shutil.copyfile(BINDER_OVERRIDES, target / "overrides.json")
    return target


@contextlib.contextmanager
def jupyterlab(work, app="lab"):
    """Start ``jupyter lab`` (or ``notebook``) serving ``work``; yield its base URL."""
    need_browser()
    port = free_port()
    log = open(work / "jupyter.log", "w")
    env = dict(os.environ, JUPYTER_PLATFORM_DIRS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", app, "--allow-root", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", "--IdentityProvider.token=",
         "--ServerApp.password=", f"--ServerApp.root_dir={work}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         f"--LabApp.workspaces_dir={work / 'workspaces'}", f"--LabApp.user_settings_dir={work / 'settings'}",
         f"--LabApp.app_settings_dir={app_settings(work)}"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(url + "/api", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("jupyter exited:\n" + (work / "jupyter.log").read_text())
                time.sleep(0.3)
        else:
            raise RuntimeError("jupyter did not start in 60 s:\n" + (work / "jupyter.log").read_text())
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def chromium_page(width=1300, height=1000, color_scheme="light"):
    """A Playwright page in headless Chromium that may only talk to 127.0.0.1."""
    sync_api = need_browser()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=color_scheme)
        blocked = []

        def only_local(route):
            host = route.request.url.split("/")[2].split(":")[0] if "://" in route.request.url else ""
            if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort()
        context.route("**/*", only_local)
        page = context.new_page()
        page.blocked = blocked
        try:
            yield page
        finally:
            context.close()
            browser.close()


def open_notebook(page, url):
    """Open a notebook URL and wait until its kernel is idle (or keystrokes would run nothing)."""
    page.goto(url)
    page.wait_for_selector(".jp-Notebook:visible", timeout=60000)
    page.wait_for_function("""() => Array.from(document.querySelectorAll('.jp-StatusBar-TextItem'))
        .some(e => /Idle/.test(e.textContent))""", timeout=60000)
    time.sleep(1)


def run_cells(page, cells):
    """Run ``cells`` cells from the top, as a learner does with Shift+Enter."""
    page.locator(".jp-Notebook:visible .jp-Cell").first.click()
    page.keyboard.press("Escape")
    for _ in range(cells):
        page.keyboard.press("Shift+Enter")


def wait_until_run(page, timeout=120000):
    """Wait until no cell of the visible notebook is queued or running (no "[*]" prompt) and the kernel is idle."""
    page.wait_for_function("""() => {
        const nb = Array.from(document.querySelectorAll('.jp-Notebook')).find(n => n.offsetParent !== null);
        if (!nb) return false;
        const busy = Array.from(nb.querySelectorAll('.jp-InputPrompt')).some(p => p.textContent.includes('*'));
        const idle = Array.from(document.querySelectorAll('.jp-StatusBar-TextItem')).some(e => /Idle/.test(e.textContent));
        return !busy && idle;
    }""", timeout=timeout)



def switch_theme(page, theme):
    """Switch the open JupyterLab to ``theme`` ("JupyterLab Dark" / "JupyterLab Light") from the
    command palette, as a learner would; the page is not reloaded, so widgets keep their state."""
    light = "true" if "Light" in theme else "false"
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Shift+C")
    page.wait_for_selector(".lm-CommandPalette input", timeout=15000)
    page.fill(".lm-CommandPalette input", f"Use Theme: {theme}")
    page.locator(".lm-CommandPalette-item", has_text=theme).first.click()
    page.wait_for_function("(light) => document.body.dataset.jpThemeLight === light", arg=light, timeout=30000)
    page.wait_for_timeout(500)      # the theme's CSS variables settle
