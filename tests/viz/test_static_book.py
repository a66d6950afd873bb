"""The built book in a real browser: do the explorers answer their controls with no Python
behind the page and no network?

This test builds nothing. It reads the HTML that ``jupyter-book build`` wrote to
``_build/html`` (``make test`` builds the book before running pytest; set
``FMCNN_BOOK_HTML`` to check a build elsewhere), serves it on 127.0.0.1 and drives
headless Chromium, the Debian package ``chromium``, through Playwright (no browser is
downloaded), with every host other than 127.0.0.1 unresolvable. On each page with
explorers:

- every request goes to our server and is answered; a request for any other host is
  refused and fails the test;
- no JavaScript error happens (uncaught errors, rejected promises, ``console.error``).
  Errors that the book's intro page, which has no notebook and no widget, shows as well
  come from the book's theme, not from the explorers: they are reported as a warning;
- the page's HTML (which carries the widget state) and data (its figures) stay under 8 MB;
  that size, the size with the scripts, styles and fonts every page of the book shares,
  and the time until every explorer shows its picture are printed;
- each explorer is driven as a reader would: every control takes each of its values
  (a choice in a menu, a click on a button, arrow keys on a slider), and after each change
  the picture shown must be the one drawn in advance for the values the controls now show
  (its label, and the same bytes as that picture in the page's widget state), or the
  "not drawn" note for a combination that was not drawn in advance. The live-mode switch
  must show its note.

The same check fails on a copy of a page whose browser-side links were removed from its
widget state (``test_the_check_fails_without_the_links``): the pictures change only
through those links.
"""
import base64
import io
import json
import os
import re
import shutil
import threading
import warnings
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fmcnn.viz.explorers.precomputed import settings_label

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
BOOK_HTML = Path(os.environ.get("FMCNN_BOOK_HTML", ROOT / "_build" / "html"))

BASELINE_PAGE = "book/intro.html"
PAGES = {  # page -> (explorers, at least this many static figures)
    "book/04_conv_forward.html": (1, 2),
    "book/05_conv_backward.html": (1, 2),
    "book/06_pooling.html": (1, 2),
    "book/07_batchnorm.html": (1, 2),
    "book/12_inside_the_network.html": (3, 4),
}
SIZE_BUDGET = 8_000_000               # bytes of HTML and data (figures) a page with explorers may have
WIDGET_JS = "/_static/html-manager-1.0.15/embed.js"
STATE_SCRIPT = re.compile(rb'(<script type="application/vnd\.jupyter\.widget-state\+json">)(.*?)(</script>)', re.S)


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("Headless Chromium is needed for this test: install the Debian package `chromium` "
                "(apt-get install chromium).")


class BookHandler(SimpleHTTPRequestHandler):
    """Serves the built book, logs every request with its size, and can serve some pages
    with other content (``replaced``: {URL path: bytes})."""

    log = None        # set per server: list of (path, status, bytes)
    replaced = None

    def send_head(self):
        body = self.replaced.get(self.path.split("?")[0])
        if body is None:
            return super().send_head()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def send_response(self, code, message=None):
        self.log.append([self.path, code, 0])
        super().send_response(code, message)

    def send_header(self, keyword, value):
        if keyword.lower() == "content-length":
            self.log[-1][2] = int(value)
        super().send_header(keyword, value)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    if not (BOOK_HTML / "book" / "12_inside_the_network.html").is_file():
        pytest.fail(f"The built book is missing: {BOOK_HTML / 'book' / '12_inside_the_network.html'} does not exist. "
                    "Build it first (`make test` does, or `jupyter-book build .`), or set FMCNN_BOOK_HTML "
                    "to the html folder of a build.")
    handler = type("Handler", (BookHandler,), {"log": [], "replaced": {}})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(BOOK_HTML)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, handler
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("The browser test drives Chromium with Playwright: pip install -r requirements.txt")
    with sync_playwright() as playwright:
        # every host but ours is unresolvable: nothing can reach the network
        chromium = playwright.chromium.launch(executable_path=find_chromium(), args=[
            "--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"])
        yield chromium
        chromium.close()


class Visit:
    """One page in a fresh browser context: its errors and the requests it tried to send elsewhere."""

    def __init__(self, browser, base, path):
        self.base = base
        self.errors, self.elsewhere = [], []
        self.context = browser.new_context(viewport={"width": 1280, "height": 1600})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught error: {e}"))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console.error: {m.text}"))
        self.page.goto(base + path, wait_until="load")

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.base) or not url.startswith(("http:", "https:", "ws:", "wss:")):
            route.continue_()
        else:
            self.elsewhere.append(url)
            route.abort()

    def close(self):
        self.context.close()


def normalized(error):
    """An error message without its URLs, positions and stack: comparable between pages."""
    first = error.splitlines()[0]
    return re.sub(r"\d+", "N", re.sub(r"\(?https?://[^\s)]*\)?", "<url>", first)).strip()


@pytest.fixture(scope="module")
def book_wide_errors(server, browser):
    """Errors on the intro page: the theme's own, present on every page of the book."""
    httpd, _ = server
    visit = Visit(browser, f"http://127.0.0.1:{httpd.server_address[1]}/", BASELINE_PAGE)
    visit.page.wait_for_timeout(1000)
    visit.close()
    if visit.errors:
        warnings.warn(f"JavaScript errors on every page of the book (also on {BASELINE_PAGE}, so not caused "
                      f"by the explorers): {visit.errors}")
    return {normalized(e) for e in visit.errors}


# -- the widget state a page carries ------------------------------------------------------------

def widget_state(html):
    """The page's saved widget state: {model id: model}."""
    match = STATE_SCRIPT.search(html)
    assert match, "the page has no saved widget state"
    return json.loads(match.group(2))["state"]


def without_links(html):
    """The page with every link model removed from its widget state."""
    def strip(match):
        state = json.loads(match.group(2))
        state["state"] = {k: m for k, m in state["state"].items()
                          if m["model_name"] not in ("DirectionalLinkModel", "LinkModel")}
        return match.group(1) + json.dumps(state).encode() + match.group(3)
    return STATE_SCRIPT.sub(strip, html, count=1)


def descendants(models, model_id):
    """The models under ``model_id`` (itself included), depth first, children in order."""
    found, todo = [], [model_id]
    while todo:
        mid = todo.pop()
        found.append(mid)
        refs = []
        for value in models[mid]["state"].values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item.startswith("IPY_MODEL_"):
                    refs.append(item[len("IPY_MODEL_"):])
        todo.extend(reversed([r for r in refs if r in models and r not in found]))
    return found


class ExplorerModels:
    """What the saved state holds for one explorer: its controls (in order) and its pictures by label."""

    def __init__(self, models, root):
        assert "fmcnn-explorer" in models[root]["state"]["_dom_classes"], "the widget is not an explorer"
        self.controls, self.pictures = [], {}
        for mid in descendants(models, root):
            model = models[mid]
            classes = model["state"].get("_dom_classes", [])
            if "fmcnn-choice" in classes:
                self.controls.append((model["model_name"], model["state"]["_options_labels"]))
            if "fmcnn-picture" in classes:
                data = base64.b64decode(next(b["data"] for b in model["buffers"] if b["path"] == ["value"]))
                self.pictures.update((label, data) for label in classes if label.startswith("fmcnn-settings-"))


# -- driving an explorer -------------------------------------------------------------------------

READ_CONTROLS = """([k, sliderLabels]) => {
  const explorer = document.querySelectorAll('.fmcnn-explorer')[k];
  return Array.from(explorer.querySelectorAll('.fmcnn-choice')).map((c, i) => {
    const select = c.querySelector('select');
    if (select) return select.selectedIndex;
    const buttons = Array.from(c.querySelectorAll('button'));
    if (buttons.length) return buttons.findIndex(b => b.classList.contains('mod-active'));
    return sliderLabels[i].indexOf(c.querySelector('.widget-readout').textContent.trim());
  });
}"""

SHOWS = """([k, expected]) => {
  const explorer = document.querySelectorAll('.fmcnn-explorer')[k];
  const note = explorer.querySelector('.fmcnn-not-precomputed');
  const img = explorer.querySelector('img.fmcnn-picture');
  if (expected === 'placeholder') return note !== null && img === null;
  return img !== null && img.classList.contains(expected) && img.complete && img.naturalWidth > 0;
}"""

SHOWN = """k => {
  const explorer = document.querySelectorAll('.fmcnn-explorer')[k];
  const img = explorer.querySelector('img.fmcnn-picture');
  if (img === null) return explorer.querySelector('.fmcnn-not-precomputed') ? 'the "not drawn" note' : 'nothing';
  return Array.from(img.classList).filter(c => c.startsWith('fmcnn-settings-')).join(' ');
}"""

PICTURE_BYTES = """async k => {
  const img = document.querySelectorAll('.fmcnn-explorer')[k].querySelector('img.fmcnn-picture');
  const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
  let text = '';
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text);
}"""


class Driver:
    """Changes the controls of explorer ``k`` of a page and records what goes wrong."""

    def __init__(self, page, k, models, timeout_ms, stop_at_first=False):
        self.page, self.k, self.models = page, k, models
        self.timeout_ms, self.stop_at_first = timeout_ms, stop_at_first
        self.explorer = page.locator(".fmcnn-explorer").nth(k)
        self.controls = self.explorer.locator(".fmcnn-choice")
        self.problems = []
        self.changes = 0

    def indices(self):
        labels = [options for _, options in self.models.controls]
        return self.page.evaluate(READ_CONTROLS, [self.k, labels])

    def check(self, step):
        """After ``step``: the picture shown is the one drawn for what the controls show."""
        self.changes += 1
        indices = self.indices()
        label = settings_label(indices)
        expected = label if label in self.models.pictures else "placeholder"
        try:
            self.page.wait_for_function(SHOWS, arg=[self.k, expected], timeout=self.timeout_ms)
        except Exception:                     # playwright's TimeoutError
            shown = self.page.evaluate(SHOWN, self.k)
            self.problems.append(f"{step}: the controls show {indices}, so the page should show "
                                 f"{expected}; it shows {shown}")
            return
        if expected != "placeholder":
            shown = base64.b64decode(self.page.evaluate(PICTURE_BYTES, self.k))
            if shown != self.models.pictures[label]:
                self.problems.append(f"{step}: the picture labelled {label} is not the one stored for it")

    def choose(self, i, j):
        """Set control ``i`` to option ``j`` as a reader does, then check the picture."""
        kind, labels = self.models.controls[i]
        control = self.controls.nth(i)
        if kind == "DropdownModel":
            control.locator("select").select_option(index=j)
        elif kind == "ToggleButtonsModel":
            control.locator("button").nth(j).click()
        else:                                 # a slider: arrow keys, one option per press
            handle = control.locator(".noUi-handle")
            handle.focus()
            for _ in range(len(labels)):
                now = self.indices()[i]
                if now == j:
                    break
                handle.press("ArrowRight" if now < j else "ArrowLeft")
        if self.indices()[i] != j:
            self.problems.append(f"control {i} did not take the value {labels[j]!r}")
        self.check(f"{labels[j]!r} chosen in control {i}")

    def run(self):
        """Every control through every value and back; then two controls changed together."""
        self.check("the page opened")
        start = self.indices()
        for i, (_, labels) in enumerate(self.models.controls):
            for j in [*range(start[i] + 1, len(labels)), *range(start[i]), start[i]]:
                if self.problems and self.stop_at_first:
                    return self.problems
                self.choose(i, j)
        if len(start) > 1:
            for i in (0, 1):
                self.choose(i, (start[i] + 1) % len(self.models.controls[i][1]))
        return self.problems

    def check_mode_switch(self):
        """The live-mode switch, if there is one, shows the note that live mode needs Python, and back."""
        switch = self.explorer.locator(".fmcnn-mode button")
        if switch.count() == 0:
            return
        switch.nth(1).click()
        note = self.explorer.get_by_text("Live mode draws with Python")
        try:
            note.wait_for(state="visible", timeout=self.timeout_ms)
        except Exception:
            self.problems.append("live mode: its note did not appear")
        switch.nth(0).click()
        self.check("back to the precomputed pictures")


def drive(visit, html, explorers, timeout_ms, stop_at_first=False):
    """Drive every explorer of the page; returns ({explorer number: problems}, the number of pictures checked)."""
    models = widget_state(html)
    roots = [json.loads(s)["model_id"] for s in visit.page.locator(
        'script[type="application/vnd.jupyter.widget-view+json"]').all_text_contents()]
    assert len(roots) == explorers, f"{len(roots)} widgets on the page, {explorers} explorers expected"
    problems, checked = {}, 0
    for k, root in enumerate(roots):
        driver = Driver(visit.page, k, ExplorerModels(models, root), timeout_ms, stop_at_first)
        driver.run()
        if not stop_at_first:
            driver.check_mode_switch()
        problems[k] = driver.problems
        checked += driver.changes
    return problems, checked


def explorers_ready(page, explorers):
    """Wait until every explorer shows its first picture; returns the milliseconds since navigation start."""
    return page.wait_for_function("""n => {
      const all = document.querySelectorAll('.fmcnn-explorer');
      if (all.length < n) return false;
      for (const e of all) {
        const img = e.querySelector('img.fmcnn-picture');
        if (!(img && img.complete && img.naturalWidth > 0) && !e.querySelector('.fmcnn-not-precomputed')) return false;
      }
      return performance.now();
    }""", arg=explorers, timeout=30000).json_value()


# -- the tests ----------------------------------------------------------------------------------

@pytest.mark.parametrize("page", list(PAGES))
def test_explorers_answer_their_controls_offline(page, server, browser, book_wide_errors, capsys):
    httpd, handler = server
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    explorers, figures = PAGES[page]
    del handler.log[:]
    visit = Visit(browser, base, page)
    try:
        ready_ms = explorers_ready(visit.page, explorers)
        html = (BOOK_HTML / page).read_bytes()
        own = len(html) + sum(size for path, _, size in handler.log if path.startswith("/_images/"))
        loaded = sum(size for _, _, size in handler.log)
        with capsys.disabled():
            print(f"\n{page}: {own / 1e6:.2f} MB of HTML and data ({len(html) / 1e6:.2f} MB of HTML with the "
                  f"widget state, the rest figures), {loaded / 1e6:.2f} MB with the scripts, styles and fonts "
                  f"that every page of the book shares; every explorer showed its picture {ready_ms / 1000:.2f} s "
                  f"after the navigation started")
        assert own < SIZE_BUDGET, f"{page} has {own:,} bytes of HTML and data, more than the budget of {SIZE_BUDGET:,}"

        # Requests: all to our server and all answered; nothing tried to leave.
        assert visit.elsewhere == [], f"{page} tried to load from other hosts: {visit.elsewhere}"
        failed = [(p, s) for p, s, _ in handler.log if s != 200 and p != "/favicon.ico"]
        assert not failed, f"requests to the local server that failed: {failed}"
        assert any(p.split("?")[0].endswith(WIDGET_JS) for p, _, _ in handler.log), \
            f"the page did not load the local widget JavaScript {WIDGET_JS}"
        static = visit.page.locator("img[src*='_images/']").count()
        assert static >= figures, f"only {static} static figures on {page}"

        # The explorers, driven as a reader does.
        problems, checked = drive(visit, html, explorers, timeout_ms=5000)
        with capsys.disabled():
            print(f"{page}: {checked} pictures checked after a change of the controls")
        assert problems == {k: [] for k in range(explorers)}

        errors = [e for e in visit.errors if normalized(e) not in book_wide_errors]
        assert errors == [], f"JavaScript errors on {page}: {errors}"
        assert visit.elsewhere == []
    finally:
        visit.close()


def test_the_check_fails_without_the_links(server, browser):
    """The pictures change only through the links the page's widget state carries: without
    them, the check above finds that no explorer answers its controls."""
    httpd, handler = server
    page = "book/12_inside_the_network.html"
    html = without_links((BOOK_HTML / page).read_bytes())
    assert b"DirectionalLinkModel" not in html
    handler.replaced["/book/unlinked.html"] = html               # beside the page: the same relative links
    visit = Visit(browser, f"http://127.0.0.1:{httpd.server_address[1]}/", "book/unlinked.html")
    try:
        explorers_ready(visit.page, PAGES[page][0])
        problems, _ = drive(visit, html, PAGES[page][0], timeout_ms=1500, stop_at_first=True)
        assert all(problems.values()), f"an explorer still answered without links: {problems}"
        assert all("the page should show" in p[0] for p in problems.values())
    finally:
        visit.close()
        del handler.replaced["/book/unlinked.html"]


def test_math_is_typeset_offline(server, browser):
    """MathJax comes from the book too: formulas render with no network."""
    httpd, handler = server
    del handler.log[:]
    visit = Visit(browser, f"http://127.0.0.1:{httpd.server_address[1]}/", "book/02_linear_classifier.html")
    try:
        visit.page.wait_for_function("() => document.querySelectorAll('mjx-container').length >= 10", timeout=30000)
        assert visit.elsewhere == [], f"the page tried to load from other hosts: {visit.elsewhere}"
        assert any(p.split("?")[0].endswith("/_static/mathjax/tex-mml-chtml.js") for p, _, _ in handler.log), \
            "MathJax was not loaded from the book"
    finally:
        visit.close()
