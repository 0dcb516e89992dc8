"""HTTP Range answers for resumable asset downloads."""

import pytest

from controller.assets import answer_range


@pytest.mark.parametrize(
    ("header", "status", "start", "length", "content_range"),
    [
        (None, 200, 0, 1000, None),
        ("", 200, 0, 1000, None),
        ("bytes=0-99", 206, 0, 100, "bytes 0-99/1000"),
        ("bytes=500-", 206, 500, 500, "bytes 500-999/1000"),
        ("bytes=-100", 206, 900, 100, "bytes 900-999/1000"),
        ("bytes=-5000", 206, 0, 1000, "bytes 0-999/1000"),
        ("bytes=990-2000", 206, 990, 10, "bytes 990-999/1000"),
        ("bytes=999-999", 206, 999, 1, "bytes 999-999/1000"),
        ("bytes=1000-", 416, 0, 0, "bytes */1000"),
        ("bytes=-0", 416, 0, 0, "bytes */1000"),
        ("bytes=5-2", 200, 0, 1000, None),
        ("bytes=0-1,5-6", 200, 0, 1000, None),
        ("items=0-9", 200, 0, 1000, None),
        ("bytes=-", 200, 0, 1000, None),
        ("bytes=abc-", 200, 0, 1000, None),
    ],
)
def test_range_answers(
    header: str | None, status: int, start: int, length: int, content_range: str | None
) -> None:
    answer = answer_range(header, 1000)
    assert (answer.status, answer.start, answer.length) == (status, start, length)
    assert answer.headers.get("Content-Range") == content_range
    assert answer.headers["Accept-Ranges"] == "bytes"
    if status != 416:
        assert answer.headers["Content-Length"] == str(length)


def test_empty_file_cannot_satisfy_a_range() -> None:
    assert answer_range("bytes=0-", 0).status == 416
    assert answer_range(None, 0).status == 200
