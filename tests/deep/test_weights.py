"""Weight files: packaged, cached, downloaded (from a local HTTP server only), checked."""

import hashlib
import http.server
import io
import os
import re
import subprocess
import sys
import threading
import warnings

import pytest

torch = pytest.importorskip("torch")

from facefeat.deep import weights as W  # noqa: E402
from facefeat.deep.backbones import build_backbone  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")


class _Server:
    """A tiny HTTP server on 127.0.0.1 serving bytes by path, counting requests."""

    def __init__(self):
        self.files = {}  # path -> (body, declared length or None)
        self.requests = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append(self.path)
                if self.path not in server.files:
                    self.send_error(404)
                    return
                body, length = server.files[self.path]
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(length if length is not None else len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"


@pytest.fixture
def server():
    s = _Server()
    s.thread.start()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    """Private cache and torch hub folders; downloads allowed (only ever from 127.0.0.1 here)."""
    monkeypatch.setenv("FACEFEAT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("FACEFEAT_OFFLINE", raising=False)


def _checkpoint():
    buf = io.BytesIO()
    torch.save({"layer.weight": torch.arange(12.0).reshape(3, 4), "layer.bias": torch.ones(3)}, buf)
    return buf.getvalue()


def _digest(data):
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("prefix", [64, 8], ids=["full-sha256", "8-hex-prefix"])
def test_download_checks_sha256_and_caches(server, prefix):
    body = _checkpoint()
    server.files["/ckpt.pth"] = (body, None)
    spec = W.WeightFile("ckpt.pth", _digest(body)[:prefix], url=server.url("/ckpt.pth"))
    path = W.weights_path(spec)
    assert path == W.cache_dir() / "ckpt.pth"
    assert path.read_bytes() == body
    assert list(path.parent.iterdir()) == [path]  # no temporary file left
    state = W.load_state_dict(path)
    assert torch.equal(state["layer.weight"], torch.arange(12.0).reshape(3, 4))
    # second call: a cache hit, no new request
    assert W.weights_path(spec) == path
    assert server.requests == ["/ckpt.pth"]


def test_corrupted_download_is_rejected_and_deleted(server):
    body = _checkpoint()
    server.files["/ckpt.pth"] = (body[:-10] + b"0123456789", None)  # same length, different bytes
    spec = W.WeightFile("ckpt.pth", _digest(body), url=server.url("/ckpt.pth"))
    with pytest.raises(W.ChecksumError, match="SHA-256"):
        W.weights_path(spec)
    assert not W.cache_dir().exists() or list(W.cache_dir().iterdir()) == []


def test_truncated_download_is_rejected(server):
    body = _checkpoint()
    server.files["/ckpt.pth"] = (body[:100], len(body))  # the connection ends early
    spec = W.WeightFile("ckpt.pth", _digest(body), url=server.url("/ckpt.pth"))
    with pytest.raises(W.WeightsNotFoundError, match="could not download"):
        W.weights_path(spec, timeout=10)
    assert list(W.cache_dir().iterdir()) == []


def test_corrupted_cache_file_is_replaced(server):
    body = _checkpoint()
    server.files["/ckpt.pth"] = (body, None)
    spec = W.WeightFile("ckpt.pth", _digest(body), url=server.url("/ckpt.pth"))
    W.cache_dir().mkdir(parents=True)
    (W.cache_dir() / "ckpt.pth").write_bytes(b"garbage")
    assert W.weights_path(spec).read_bytes() == body
    assert server.requests == ["/ckpt.pth"]


def test_missing_file_error_says_what_to_fetch_and_where(server):
    spec = W.WeightFile("absent.pth", "0" * 8, url=server.url("/absent.pth"))
    with pytest.raises(W.WeightsNotFoundError) as info:
        W.weights_path(spec)
    message = str(info.value)
    assert server.url("/absent.pth") in message and str(W.cache_dir() / "absent.pth") in message


def test_file_without_url_or_package_says_where_to_put_it(tmp_path):
    spec = W.WeightFile("mine.pth", "0" * 8)
    with pytest.raises(W.WeightsNotFoundError, match="no download address") as info:
        W.weights_path(spec, directory=tmp_path)
    message = str(info.value)
    assert str(tmp_path / "mine.pth") in message and "pip install" not in message


def test_offline_never_requests(server, monkeypatch):
    body = _checkpoint()
    server.files["/ckpt.pth"] = (body, None)
    spec = W.WeightFile("ckpt.pth", _digest(body), url=server.url("/ckpt.pth"))
    monkeypatch.setenv("FACEFEAT_OFFLINE", "1")
    with pytest.raises(W.WeightsNotFoundError, match="FACEFEAT_OFFLINE") as info:
        W.weights_path(spec)
    assert spec.url in str(info.value)
    monkeypatch.delenv("FACEFEAT_OFFLINE")
    with pytest.raises(W.WeightsNotFoundError, match="not allowed"):
        W.weights_path(spec, download=False)
    assert server.requests == []


def test_torch_hub_checkpoint_is_reused(server, tmp_path):
    body = _checkpoint()
    hub = tmp_path / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    (hub / "ckpt.pth").write_bytes(body)
    spec = W.WeightFile("ckpt.pth", _digest(body)[:8], url=server.url("/ckpt.pth"))
    assert W.weights_path(spec) == hub / "ckpt.pth"
    assert server.requests == []


def test_cache_dir_follows_facefeat_cache(tmp_path):
    assert W.cache_dir() == tmp_path / "cache" / "weights"


def test_registry_is_consistent():
    for name, spec in W.WEIGHTS.items():
        assert re.fullmatch(r"[0-9a-f]{8}([0-9a-f]{56})?", spec.sha256), name
        if spec.url is not None:
            assert spec.url.startswith("https://download.pytorch.org/models/") and spec.url.endswith(spec.filename)
            # torchvision's convention: the file name carries the first 8 hex digits of the SHA-256
            assert spec.filename.rsplit("-", 1)[1].startswith(spec.sha256[:8]), name
        else:
            assert spec.package and spec.pip_name, name
    assert {"resnet18", "resnet50", "efficientnet_b0", "inception_v3"} <= {n for n, s in W.WEIGHTS.items() if s.url}


@pytest.mark.parametrize("name", ["mobilenet_v2", "efficientnet_lite0"])
def test_packaged_weights_are_found_without_import_and_match(name):
    path = W.packaged_path(name)
    if path is None:
        pytest.skip(f"{W.WEIGHTS[name].pip_name} is not installed")
    assert W.sha256_matches(W.file_sha256(path), W.WEIGHTS[name].sha256)
    # find_spec only: the package itself (which pins torch 1.6 / imports pkg_resources) is never imported
    code = (f"import sys; from facefeat.deep.weights import packaged_path; packaged_path({name!r}); "
            f"assert {W.WEIGHTS[name].package!r} not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_state_dict_and_torchscript_files_load_strictly(tmp_path):
    torch.manual_seed(0)
    net = build_backbone("resnet18", weights=None)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        expected = net(x)
    plain, wrapped, scripted = tmp_path / "plain.pth", tmp_path / "wrapped.pth", tmp_path / "traced.pt"
    torch.save(net.state_dict(), plain)
    torch.save({"state_dict": {"module." + k: v for k, v in net.state_dict().items()}}, wrapped)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13 deprecates TorchScript, still supported
        torch.jit.save(torch.jit.trace(net, x), scripted)
    for path in (plain, wrapped, scripted):
        with torch.no_grad():
            assert torch.allclose(build_backbone("resnet18", weights=path)(x), expected, atol=1e-6), path.name
    # strict: a checkpoint of another architecture is refused
    with pytest.raises(RuntimeError, match="state_dict"):
        build_backbone("mobilenet_v2", weights=plain)


def test_load_state_dict_refuses_non_state_dicts(tmp_path):
    path = tmp_path / "x.pth"
    torch.save([1, 2, 3], path)
    with pytest.raises(ValueError, match="state dict"):
        W.load_state_dict(path)
    with pytest.raises(FileNotFoundError):
        W.load_state_dict(tmp_path / "missing.pth")


def test_bad_expected_digest_is_refused():
    with pytest.raises(ValueError, match="8 hex"):
        W.sha256_matches("ab" * 32, "abc")


def test_unknown_weights_name():
    with pytest.raises(ValueError, match="unknown weights"):
        W.weights_path("vgg16")


def test_importing_facefeat_deep_does_not_import_torch():
    code = ("import sys, facefeat, facefeat.deep, facefeat.deep.embedding, facefeat.deep.finetune; "
            "assert 'torch' not in sys.modules, 'torch imported'")
    env = dict(os.environ)
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
