"""Downloading into the cache, against a throwaway HTTP server on 127.0.0.1."""

import functools
import gzip
import hashlib
import http.server
import threading

import numpy as np
import pytest

import fmcnn.data.fashion_mnist as fm
from fmcnn.data import ChecksumError, DownloadError, load_fashion_mnist, write_idx


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class BrokenHandler(QuietHandler):
    def do_GET(self):
        self.send_error(503, "Service Unavailable")


class ShortHandler(QuietHandler):
    """Promises more bytes than it sends, like a dropped connection."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "1000")
        self.end_headers()
        self.wfile.write(b"\x1f\x8b" + bytes(100))


def serve(handler, folder):
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder of fake .gz files, the MD5 table set to match them, an empty cache."""
    for var in ("FMCNN_DATA", "FMCNN_CACHE", "FMCNN_DATA_URL"):
        monkeypatch.delenv(var, raising=False)
    # Loopback must never go through a proxy the machine may have configured.
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setattr(fm, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(fm, "DEBIAN_DIR", tmp_path / "debian")
    monkeypatch.setattr(fm, "DOWNLOAD_TIMEOUT", 5)
    root = tmp_path / "site"
    root.mkdir()
    md5 = {}
    for name, array in [("train-images-idx3-ubyte", np.full((4, 28, 28), 7, np.uint8)),
                        ("train-labels-idx1-ubyte", np.array([0, 1, 2, 9], np.uint8))]:
        path = write_idx(root / f"{name}.gz", array)
        md5[name] = hashlib.md5(gzip.decompress(path.read_bytes())).hexdigest()
    monkeypatch.setattr(fm, "MD5", {**fm.MD5, **md5})
    return root


@pytest.fixture
def server(site, monkeypatch):
    """Start a server with the handler class given; set BASE_URL to it; stop it afterwards."""
    running = []

    def start(handler=QuietHandler):
        srv, thread = serve(handler, site)
        running.append((srv, thread))
        monkeypatch.setattr(fm, "BASE_URL", f"http://127.0.0.1:{srv.server_port}")
        return srv

    yield start
    for srv, thread in running:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def cache_files():
    return sorted(p.name for p in fm.CACHE_DIR.iterdir()) if fm.CACHE_DIR.exists() else []


def test_download_lands_in_cache_and_loads(server):
    server()
    images, labels = load_fashion_mnist("train")
    assert images.shape == (4, 28, 28) and (images == 7).all()
    np.testing.assert_array_equal(labels, [0, 1, 2, 9])
    assert cache_files() == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]


def test_env_var_url_beats_module_constant(server, monkeypatch):
    srv = server()
    monkeypatch.setattr(fm, "BASE_URL", "http://127.0.0.1:9/")  # closed port
    monkeypatch.setenv("FMCNN_DATA_URL", f"http://127.0.0.1:{srv.server_port}/")
    assert len(load_fashion_mnist("train")[0]) == 4


def test_only_missing_files_are_fetched(server, site):
    server()
    fm.CACHE_DIR.mkdir()
    write_idx(fm.CACHE_DIR / "train-labels-idx1-ubyte", np.array([3, 3, 3, 3], np.uint8))
    (site / "train-labels-idx1-ubyte.gz").unlink()  # a fetch of it would 404
    _, labels = load_fashion_mnist("train", verify=False)
    np.testing.assert_array_equal(labels, [3, 3, 3, 3])


def test_no_download_when_disallowed(server):
    server()
    with pytest.raises(fm.DataNotFoundError, match="download=False"):
        load_fashion_mnist("train", download=False)
    assert cache_files() == []


def test_corrupted_download_leaves_nothing(server, site):
    server()
    # The server now serves bytes that decode fine but are not the published file.
    write_idx(site / "train-images-idx3-ubyte.gz", np.full((4, 28, 28), 8, np.uint8))
    with pytest.raises(ChecksumError, match="failed verification and was discarded") as info:
        load_fashion_mnist("train")
    assert "train-images-idx3-ubyte.gz" in str(info.value)
    assert cache_files() == []


def test_garbage_download_leaves_nothing(server, site):
    server()
    (site / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(fm.CorruptDataError, match="corrupt or truncated gzip"):
        load_fashion_mnist("train", verify=False)
    assert cache_files() == []


def test_http_404_leaves_nothing(server, site):
    server()
    (site / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DownloadError, match="HTTP error 404") as info:
        load_fashion_mnist("train")
    msg = str(info.value)
    assert "/train-images-idx3-ubyte.gz" in msg and "apt-get install" in msg
    assert cache_files() == []


def test_server_error_leaves_nothing(server):
    server(BrokenHandler)
    with pytest.raises(DownloadError, match="HTTP error 503"):
        load_fashion_mnist("train")
    assert cache_files() == []


def test_dropped_connection_leaves_nothing(server):
    server(ShortHandler)
    with pytest.raises(DownloadError, match="download failed|closed after"):
        load_fashion_mnist("train")
    assert cache_files() == []


def test_connection_refused(site, monkeypatch):
    srv, thread = serve(QuietHandler, site)
    port = srv.server_port
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)
    monkeypatch.setattr(fm, "BASE_URL", f"http://127.0.0.1:{port}/")
    with pytest.raises(DownloadError, match="could not connect"):
        load_fashion_mnist("train")
    assert cache_files() == []
