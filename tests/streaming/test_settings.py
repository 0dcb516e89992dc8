"""LOAXA_STREAM_*: managed by default, a province's Icecast by URL, or none; bad combinations refused."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError

from controller.config import load_settings
from controller.streaming import StationUrls, StreamingServer


def test_external_mode_needs_its_url_and_source_password(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="LOAXA_STREAM_URL"):
        load_settings({"LOAXA_STREAM_MODE": "external", "LOAXA_DATA_DIR": str(tmp_path)})
    with pytest.raises(ValidationError, match="http:// hoặc https://"):
        load_settings({"LOAXA_STREAM_PUBLIC_URL": "icecast.example:8000", "LOAXA_DATA_DIR": str(tmp_path)})
    settings = load_settings(
        {
            "LOAXA_STREAM_MODE": "external",
            "LOAXA_STREAM_URL": "https://radio.yenbai.example:8443/",
            "LOAXA_STREAM_SOURCE_PASSWORD": "s3cret",
            "LOAXA_DATA_DIR": str(tmp_path),
        }
    )
    server = StreamingServer(settings, b"k" * 32)
    server.start([StationUrls(1, ("http://vov.example/vov1",))])  # nothing to start, no relay mounts
    assert server.base_url == "https://radio.yenbai.example:8443"
    assert server.relay_url(1, datetime(2030, 1, 1, tzinfo=UTC)) is None
    assert server.health() == {"mode": "external"}
    assert server.source_url("/live-1") == "icecast://source:s3cret@radio.yenbai.example:8443/live-1"
    assert not (tmp_path / "icecast").exists()


def test_off_mode_runs_nothing(tmp_path: Path) -> None:
    server = StreamingServer(
        load_settings({"LOAXA_STREAM_MODE": "off", "LOAXA_DATA_DIR": str(tmp_path)}), b"k"
    )
    server.start(())
    assert server.base_url is None and server.icecast is None and server.health() == {"mode": "off"}
    assert server.source_url("/live-1") is None
