"""The content-addressed store on a real file system."""

import hashlib
import threading
from pathlib import Path

import pytest

from controller.assets import AssetStore, InvalidAssetId, is_sha256


def files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


def test_put_names_by_sha256_in_shards(tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    data = b"ID3 not really an mp3"
    sha = store.put(data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert store.path(sha) == tmp_path / sha[:2] / f"{sha}.mp3"
    assert store.exists(sha)
    assert store.size(sha) == len(data)
    with store.open(sha) as file:
        assert file.read() == data
    assert files_under(tmp_path) == [store.path(sha)]  # no temporary file left behind


def test_put_from_file_copies_and_is_idempotent(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "store")
    source = tmp_path / "upload.bin"
    source.write_bytes(b"x" * 3_000_000)
    sha = store.put(source)
    assert store.put(source.read_bytes()) == sha
    assert source.exists()
    assert files_under(tmp_path / "store") == [store.path(sha)]


def test_concurrent_puts_of_the_same_bytes_leave_one_whole_file(tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    data = bytes(range(256)) * 4096
    shas: list[str] = []
    threads = [threading.Thread(target=lambda: shas.append(store.put(data))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(shas)) == 1
    assert files_under(tmp_path) == [store.path(shas[0])]
    assert store.path(shas[0]).read_bytes() == data


def test_failed_put_leaves_nothing(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "store")
    with pytest.raises(IsADirectoryError):
        store.put(tmp_path)  # a directory cannot be read as a file
    assert files_under(tmp_path / "store") == []


@pytest.mark.parametrize("bad", ["", "../etc/passwd", "A" * 64, "g" * 64, "a" * 63])
def test_only_sha256_names_assets(tmp_path: Path, bad: str) -> None:
    assert not is_sha256(bad)
    with pytest.raises(InvalidAssetId, match="not an asset id"):
        AssetStore(tmp_path).path(bad)


def test_missing_asset(tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    assert not store.exists("0" * 64)
    with pytest.raises(FileNotFoundError):
        store.open("0" * 64)
