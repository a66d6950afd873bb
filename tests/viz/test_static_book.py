"""The built book in a real browser: do the explorer pages work with no kernel and no network?

This test builds nothing. It reads the HTML that ``jupyter-book build`` wrote to
``_build/html`` (``make test`` builds the book before running pytest; set
``FMCNN_BOOK_HTML`` to check a build elsewhere), serves it on 127.0.0.1 and
opens the explorer pages in headless Chromium (Debian package ``chromium``)
with a fresh profile and every host other than 127.0.0.1 unresolvable. Then:

- every request the page makes to our server is answered 200, and no request
  tries to leave for another host (Chromium's own network log lists every URL
  the page asked for);
- no JavaScript error happens (a small probe script, inserted into the page by
  our server, records uncaught errors, rejected promises, ``console.error``
  calls and resources that fail to load, and lists images that did not load).
  Errors that the book's intro page, which has no notebook and no widget, shows
  as well come from the book's theme, not from the explorers: they are reported
  as a warning and do not fail the test;
- the widgets rendered from their saved state (the explorers' controls and
  pictures), and the figures and animations are in the DOM.
"""
import html.parser
import io
import json
import re
import os
import shutil
import subprocess
import threading
import warnings
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
BOOK_HTML = Path(os.environ.get("FMCNN_BOOK_HTML", ROOT / "_build" / "html"))

BASELINE_PAGE = "book/intro.html"
# page -> (explorers, animations, at least this many static figures)
PAGES = {
    "book/12_inside_the_network.html": (3, 3, 4),
    "book/04_conv_forward.html": (1, 1, 1),
}
WIDGET_JS = "/_static/html-manager-1.0.15/embed.js"

# Requests to other hosts that this test tolerates: none. The widget JavaScript and MathJax
# are both served from the book (_config.yml), so the pages work with no network at all.
TOLERATED_ELSEWHERE = ()

PROBE = b"""<script>
(function () {
  var errors = [];
  var tolerated = %s;
  function ok(url) { return tolerated.some(function (t) { return String(url).indexOf(t) === 0; }); }
  window.addEventListener('error', function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) {
      if (!ok(t.src || t.href)) errors.push('failed to load ' + (t.src || t.href));
    } else {
      errors.push('uncaught error: ' + e.message + ' (' + e.filename + ':' + e.lineno + ')');
    }
  }, true);
  window.addEventListener('unhandledrejection', function (e) {
    var r = e.reason;
    errors.push('unhandled promise rejection: ' + (r && (r.stack || r.message) || r));
  });
  var consoleError = console.error;
  console.error = function () {
    errors.push('console.error: ' + Array.prototype.map.call(arguments, String).join(' '));
    return consoleError.apply(console, arguments);
  };
  window.addEventListener('load', function () {
    setTimeout(function () {
      var broken = [];
      for (var i = 0; i < document.images.length; i++) {
        var im = document.images[i];
        if (!im.complete || im.naturalWidth === 0) broken.push(im.currentSrc || im.src || ('<img id=' + im.id + '>'));
      }
      var out = document.createElement('pre');
      out.id = 'fmcnn-probe';
      out.textContent = JSON.stringify({errors: errors, broken: broken});
      document.body.appendChild(out);
    }, 3000);
  });
})();
</script>""" % json.dumps(list(TOLERATED_ELSEWHERE)).encode()


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("Headless Chromium is needed for this test: install the Debian package `chromium` "
                "(apt-get install chromium).")


class BookHandler(SimpleHTTPRequestHandler):
    """Serves the built book, inserts the probe into HTML pages, logs every request."""

    log = None   # set per server: list of (method, path, status)

    def send_response(self, code, message=None):
        self.log.append((self.command, self.path, code))
        super().send_response(code, message)

    def send_head(self):
        path = self.translate_path(self.path)
        if not self.path.startswith("/") or not path.endswith(".html") or not os.path.isfile(path):
            return super().send_head()
        with open(path, "rb") as f:
            body = f.read()
        body = body.replace(b"<head>", b"<head>" + PROBE, 1)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, *args):
        pass


class Elements(html.parser.HTMLParser):
    """All start tags of a document: [(tag, attrs dict)]."""

    def __init__(self):
        super().__init__()
        self.elements = []
        self.probe = None
        self._in_probe = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        self._in_probe = attrs.get("id") == "fmcnn-probe"

    def handle_data(self, data):
        if self._in_probe:
            self.probe = (self.probe or "") + data

    def handle_endtag(self, tag):
        if tag == "pre":
            self._in_probe = False

    def with_class(self, name, tag=None):
        return [(t, a) for t, a in self.elements
                if name in (a.get("class") or "").split() and (tag is None or t == tag)]


@pytest.fixture(scope="module")
def server():
    if not (BOOK_HTML / "book" / "12_inside_the_network.html").is_file():
        pytest.fail(f"The built book is missing: {BOOK_HTML / 'book' / '12_inside_the_network.html'} does not exist. "
                    "Build it first (`make test` does, or `jupyter-book build .`), or set FMCNN_BOOK_HTML "
                    "to the html folder of a build.")
    log = []
    handler = type("Handler", (BookHandler,), {"log": log})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(BOOK_HTML)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd, log
    httpd.shutdown()
    httpd.server_close()


def open_in_chromium(url, tmp_path, budget_ms=20000):
    """Load ``url`` in headless Chromium; returns (dumped DOM, URLs requested per the net log, stderr)."""
    netlog = tmp_path / "netlog.json"
    cmd = [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
           "--disable-default-apps", "--disable-extensions", "--mute-audio", "--disable-breakpad",
           "--disable-client-side-phishing-detection", "--disable-domain-reliability", "--metrics-recording-only",
           "--disable-features=AutofillServerCommunication,OptimizationHints,MediaRouter,Translate",
           f"--user-data-dir={tmp_path / 'profile'}",
           # every host but ours is unresolvable: nothing can reach the network, and what tries
           # shows up in the net log
           "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
           f"--log-net-log={netlog}", "--net-log-capture-mode=Default",
           "--enable-logging=stderr", "--v=0",
           "--window-size=1280,1600", f"--virtual-time-budget={budget_ms}", "--dump-dom", url]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"chromium failed ({result.returncode}):\n{result.stderr[-3000:]}"
    return result.stdout, requested_urls(netlog, "/".join(url.split("/", 3)[:3])), result.stderr


def requested_urls(netlog, origin):
    """Every URL the page asked for, from Chromium's net log.

    A request is the page's when the page is its initiator (``origin``), or when it
    is the page itself (the main frame). The browser's own background requests
    (update checks, autofill and the like, which the flags above cannot all switch
    off) have no initiator ("not an origin").
    """
    text = netlog.read_text(errors="replace")
    if not text.rstrip().endswith("}"):   # a log cut short at exit: close it
        text = text.rstrip().rstrip(",") + "]}"
    data = json.loads(text)
    start = data["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    urls = set()
    for e in data.get("events", []):
        params = e.get("params") or {}
        if e.get("type") == start and "url" in params and (
                params.get("initiator") == origin or params.get("request_type") == "main frame"):
            urls.add(params["url"])
    return urls


def probe_of(dom, stderr):
    doc = Elements()
    doc.feed(dom)
    assert doc.probe is not None, f"the page did not finish loading within the time budget:\n{stderr[-2000:]}"
    return doc, json.loads(doc.probe)


def normalized(error):
    """An error message without its URLs, positions and stack: comparable between pages."""
    first = error.splitlines()[0]
    return re.sub(r"\d+", "N", re.sub(r"\(?https?://[^\s)]*\)?", "<url>", first)).strip()


@pytest.fixture(scope="module")
def book_wide_errors(server, tmp_path_factory):
    """Errors on the intro page: the theme's own, present on every page of the book."""
    httpd, _ = server
    url = f"http://127.0.0.1:{httpd.server_address[1]}/{BASELINE_PAGE}"
    dom, _, stderr = open_in_chromium(url, tmp_path_factory.mktemp("baseline"))
    _, probe = probe_of(dom, stderr)
    if probe["errors"]:
        warnings.warn(f"JavaScript errors on every page of the book (also on {BASELINE_PAGE}, so not caused "
                      f"by the explorers): {probe['errors']}")
    return {normalized(e) for e in probe["errors"]}


@pytest.mark.parametrize("page", list(PAGES))
def test_explorer_page_works_offline(page, server, book_wide_errors, tmp_path):
    httpd, log = server
    port = httpd.server_address[1]
    base = f"http://127.0.0.1:{port}/"
    del log[:]
    dom, urls, stderr = open_in_chromium(base + page, tmp_path)
    explorers, animations, figures = PAGES[page]

    # 1. Requests: all to our server and all answered; nothing tried to leave.
    elsewhere = sorted(u for u in urls if u.startswith(("http:", "https:", "ws:", "wss:")) and not u.startswith(base)
                       and not u.startswith(TOLERATED_ELSEWHERE))
    assert not elsewhere, f"{page} tried to load from other hosts: {elsewhere}"
    failed = [(m, p, s) for m, p, s in log if s != 200 and p != "/favicon.ico"]
    assert not failed, f"requests to the local server that failed: {failed}"
    assert any(p.split("?")[0].endswith(WIDGET_JS) for _, p, _ in log), \
        f"the page did not load the local widget JavaScript {WIDGET_JS}; requests: {[p for _, p, _ in log]}"

    # 2. No JavaScript errors, no broken images.
    doc, probe = probe_of(dom, stderr)
    errors = [e for e in probe["errors"] if normalized(e) not in book_wide_errors]
    assert errors == [], f"JavaScript errors on {page}: {errors}"
    assert probe["broken"] == [], f"images that did not load on {page}: {probe['broken']}"

    # 3. The widgets rendered from the saved state: each explorer with its controls and its picture.
    rendered = doc.with_class("fmcnn-explorer")
    assert len(rendered) == explorers, f"{len(rendered)} of {explorers} explorers rendered on {page}"
    assert len(doc.with_class("jupyter-widgets")) >= 4 * explorers
    pictures = [a for _, a in doc.with_class("widget-image", "img") if (a.get("src") or "").startswith("blob:")]
    assert len(pictures) == explorers, f"explorer pictures: {pictures}"
    controls = (doc.with_class("widget-dropdown") + doc.with_class("widget-slider")
                + doc.with_class("widget-toggle-buttons"))
    assert len(controls) >= explorers, "no explorer controls in the DOM"

    # 4. Figures and playable animations.
    frames = [a for t, a in doc.elements if t == "img" and (a.get("id") or "").startswith("_anim_img")]
    assert len(frames) == animations, f"{len(frames)} of {animations} animations on {page}"
    assert all((a.get("src") or "").startswith("data:image/png") for a in frames), "an animation shows no frame"
    assert len([a for t, a in doc.elements if t == "button" and a.get("title") == "Play"]) == animations
    static = [a for t, a in doc.elements if t == "img" and "/_images/" in "/" + (a.get("src") or "")]
    assert len(static) >= figures, f"only {len(static)} static figures on {page}"


def test_math_is_typeset_offline(server, tmp_path):
    """MathJax comes from the book too: formulas render with no network."""
    httpd, log = server
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    del log[:]
    dom, urls, stderr = open_in_chromium(base + "book/02_linear_classifier.html", tmp_path)
    elsewhere = sorted(u for u in urls if u.startswith(("http:", "https:")) and not u.startswith(base))
    assert not elsewhere, f"the page tried to load from other hosts: {elsewhere}"
    assert any(p.split("?")[0].endswith("/_static/mathjax/tex-mml-chtml.js") for _, p, _ in log), \
        f"MathJax was not loaded from the book; requests: {[p for _, p, _ in log]}"
    doc, _ = probe_of(dom, stderr)
    typeset = [t for t, _ in doc.elements if t == "mjx-container"]
    assert len(typeset) >= 10, f"only {len(typeset)} typeset formulas on the page"
