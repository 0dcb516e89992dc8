"""The lexicon page: list and search, add, change and delete the commune's entries, listen, bad inputs."""

from flask.testing import FlaskClient

from controller.tts import commune_lexicon, normalize_text
from tests.web.conftest import Runtime
from tests.web.ui_support import csrf, post, sign_in
from web import WebContext


def test_only_admins_reach_the_lexicon(client: FlaskClient) -> None:
    sign_in(client, "operator")
    assert client.get("/lexicon").status_code == 403
    assert post(client, "/lexicon", {"key": "HTX", "reading": "hợp tác xã"}).status_code == 403
    assert "Từ điển đọc" not in client.get("/bulletins").get_data(as_text=True)


def test_add_change_search_and_delete_an_entry(client: FlaskClient, context: WebContext) -> None:
    sign_in(client, "admin")
    page = client.get("/lexicon").get_data(as_text=True)
    assert "Từ điển đọc của xã" in page and "UBND" in page and "có sẵn" in page
    added = post(client, "/lexicon", {"key": "HTX", "reading": " hợp  tác xã ", "kind": "abbreviation"})
    assert added.status_code == 302
    shown = client.get(added.headers["Location"]).get_data(as_text=True)
    assert "Đã lưu: “HTX” đọc là “hợp tác xã”" in shown and "của xã" in shown
    lexicon = commune_lexicon(context.settings.data_dir)
    assert "hợp tác xã" in normalize_text("HTX Tú Lệ họp.", lexicon=lexicon).text
    override = post(client, "/lexicon", {"key": "UBND", "reading": "ủy ban xã", "kind": "abbreviation"})
    assert override.status_code == 302
    found = client.get("/lexicon?q=ubnd").get_data(as_text=True)
    assert "(thay cho “ủy ban nhân dân”)" in found and "<strong>HTX</strong>" not in found
    assert 'value="ủy ban xã"' in client.get("/lexicon?sua=UBND").get_data(as_text=True)
    deleted = post(client, "/lexicon/delete", {"key": "UBND"})
    assert "Đã xóa mục “UBND”" in client.get(deleted.headers["Location"]).get_data(as_text=True)
    entries = commune_lexicon(context.settings.data_dir).entries
    assert (
        entries["HTX"] == "hợp tác xã" and entries["UBND"] == "ủy ban nhân dân"
    )  # the packaged reading again


def test_bad_entries_are_refused_in_vietnamese(client: FlaskClient, context: WebContext) -> None:
    sign_in(client, "admin")
    cases = [
        ({"key": "", "reading": "x"}, "Hãy nhập chữ viết"),
        ({"key": "4G", "reading": "4 gờ"}, "có chữ số: hãy viết số thành chữ"),
        ({"key": "TT", "reading": "..."}, "Hãy nhập cách đọc bằng chữ"),
        ({"key": "X" * 41, "reading": "ích"}, "Chữ viết dài 41 ký tự; tối đa 40."),
    ]
    for fields, words in cases:
        answer = post(client, "/lexicon", fields)
        assert words in client.get(answer.headers["Location"]).get_data(as_text=True), fields
    assert not (context.settings.data_dir / "lexicon.toml").exists()  # nothing was written
    missing = post(client, "/lexicon/delete", {"key": "UBND"})  # a packaged entry: not the commune's
    assert "không xóa được" in client.get(missing.headers["Location"]).get_data(as_text=True)


def test_listen_reads_the_written_form_as_a_fragment_or_a_page(client: FlaskClient, runtime: Runtime) -> None:
    sign_in(client, "admin")
    fragment = client.post(
        "/lexicon/listen",
        data={"csrf_token": csrf(client, "/lexicon"), "text": "UBND"},
        headers={"X-Requested-With": "fetch"},
        content_type="multipart/form-data",
    )
    assert fragment.status_code == 200 and "<audio controls src=" in fragment.get_data(as_text=True)
    page = post(client, "/lexicon/listen", {"text": "UBND"})
    assert "Nghe cách đọc “UBND”" in page.get_data(as_text=True)
    assert runtime.previews == ["UBND", "UBND"]
