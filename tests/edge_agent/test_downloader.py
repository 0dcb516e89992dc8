"""Downloads against a real loopback HTTP server: Range resume, restarts, sha256 and size checks."""

import threading
from pathlib import Path

import pytest

from edge_agent.downloader import Downloader, DownloadError, asset_path, evict, fetch, partial_path
from protocol import Asset
from tests.edge_agent.support import Audio, asset_server


def test_resumes_a_partial_file_with_range(tmp_path: Path, short_mp3: Audio) -> None:
    data = short_mp3.path.read_bytes()
    with asset_server() as server:
        asset = server.add(short_mp3)
        part = partial_path(tmp_path, asset.sha256)
        part.parent.mkdir(parents=True)
        part.write_bytes(data[:1000])
        path = fetch(asset, tmp_path)
    assert path == asset_path(tmp_path, asset.sha256) and path.read_bytes() == data
    assert server.requests == [(f"/{asset.sha256}.mp3", "bytes=1000-")]
    assert not part.exists()


def test_server_without_range_support_restarts_from_zero(tmp_path: Path, short_mp3: Audio) -> None:
    data = short_mp3.path.read_bytes()
    with asset_server() as server:
        server.honour_range = False
        asset = server.add(short_mp3)
        part = partial_path(tmp_path, asset.sha256)
        part.parent.mkdir(parents=True)
        part.write_bytes(b"junk" * 100)
        assert fetch(asset, tmp_path).read_bytes() == data


def test_sha256_mismatch_is_rejected_and_nothing_is_cached(tmp_path: Path, short_mp3: Audio) -> None:
    with asset_server() as server:
        asset = server.add(short_mp3)
        name = f"{asset.sha256}.mp3"
        server.files[name] = bytes(reversed(server.files[name]))  # same size, other content
        with pytest.raises(DownloadError) as info:
            fetch(asset, tmp_path)
    assert info.value.reason == "sha256_mismatch"
    assert not asset_path(tmp_path, asset.sha256).exists()
    assert not partial_path(tmp_path, asset.sha256).exists(), "bad bytes must not be resumed later"


def test_size_and_http_errors(tmp_path: Path, short_mp3: Audio) -> None:
    with asset_server() as server:
        asset = server.add(short_mp3)
        server.files[f"{asset.sha256}.mp3"] += b"extra"
        with pytest.raises(DownloadError) as too_big:
            fetch(asset, tmp_path)
        missing = Asset("c" * 64, 10, 10, server.url("nope.mp3"))
        with pytest.raises(DownloadError) as not_found:
            fetch(missing, tmp_path)
    assert too_big.value.reason == "size_mismatch"
    assert not_found.value.reason == "http_404" and not_found.value.permanent
    with pytest.raises(DownloadError, match="http"):
        fetch(Asset("d" * 64, 10, 10, "file:///etc/passwd"), tmp_path)


def test_worker_retries_and_reports(tmp_path: Path, short_mp3: Audio) -> None:
    outcomes: list[tuple[str, Path | None, str | None]] = []
    done = threading.Event()

    def on_done(asset: Asset, path: Path | None, reason: str | None) -> None:
        outcomes.append((asset.sha256, path, reason))
        if len(outcomes) == 2:
            done.set()

    with asset_server() as server:
        good = server.add(short_mp3)
        bad = Asset("e" * 64, 10, 10, server.url("gone.mp3"))
        worker = Downloader(tmp_path, on_done, attempts=3, backoff_s=0.05)
        worker.start()
        assert worker.request(good)
        assert worker.request(bad)
        assert done.wait(10)
        assert len([r for r in server.requests if r[0] == "/gone.mp3"]) == 1, "a 404 is not retried"
        assert not worker.request(bad), "a failed asset cools down before it is asked for again"
        worker.forget_failures()
        assert worker.request(bad)
        worker.stop()
    assert outcomes[:2] == [
        (good.sha256, asset_path(tmp_path, good.sha256), None),
        (bad.sha256, None, "http_404"),
    ]


def test_evict_keeps_wanted_assets(tmp_path: Path) -> None:
    for sha in ("1" * 64, "2" * 64, "3" * 64):
        asset_path(tmp_path, sha).write_bytes(b"x" * 100)
    removed = evict(tmp_path, [("1" * 64, 100), ("2" * 64, 100), ("3" * 64, 100)], {"1" * 64}, 150)
    assert removed == ["2" * 64, "3" * 64]
    assert asset_path(tmp_path, "1" * 64).exists()
