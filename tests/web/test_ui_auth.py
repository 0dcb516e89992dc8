"""The UI's login, session cookie, CSRF, role gates and user management (Flask test client)."""

from flask.testing import FlaskClient

from controller import services
from tests.web.conftest import PASSWORD, Runtime
from tests.web.ui_support import csrf, post, sign_in


def test_pages_need_a_signed_in_user(client: FlaskClient) -> None:
    for path in (
        "/bulletins",
        "/compose",
        "/approvals",
        "/schedule",
        "/devices",
        "/plays",
        "/reports",
        "/users",
    ):
        answer = client.get(path)
        assert answer.status_code == 302 and "/login?next=" in answer.headers["Location"], path


def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(client: FlaskClient) -> None:
    token = csrf(client)
    answer = client.post(
        "/login",
        data={"csrf_token": token, "username": "operator", "password": PASSWORD, "next": "/devices"},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302 and answer.headers["Location"] == "/devices"
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = client.get("/bulletins").get_data(as_text=True)
    assert 'lang="vi"' in page and "operator · Cán bộ đài" in page
    assert post(client, "/logout", {}).status_code == 302
    assert client.get("/bulletins").status_code == 302


def test_cookie_is_secure_over_https(client: FlaskClient) -> None:
    token = csrf(client)
    answer = client.post(
        "/login",
        data={"csrf_token": token, "username": "operator", "password": PASSWORD},
        content_type="multipart/form-data",
        base_url="https://localhost",
    )
    assert "Secure" in answer.headers["Set-Cookie"]


def test_wrong_password_and_foreign_next_are_refused(client: FlaskClient) -> None:
    token = csrf(client)
    answer = client.post(
        "/login",
        data={"csrf_token": token, "username": "operator", "password": "wrong-password"},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 401 and "Sai tên đăng nhập" in answer.get_data(as_text=True)
    answer = client.post(
        "/login",
        data={"csrf_token": token, "username": "operator", "password": PASSWORD, "next": "//evil.example/"},
        content_type="multipart/form-data",
    )
    assert answer.headers["Location"] == "/bulletins"


def test_posts_without_the_csrf_token_are_rejected(client: FlaskClient, runtime: Runtime) -> None:
    answer = client.post(
        "/login", data={"username": "operator", "password": PASSWORD}, content_type="multipart/form-data"
    )
    assert answer.status_code == 400
    sign_in(client, "admin")
    answer = post(
        client, "/users", {"username": "mallory", "password": "x" * 12, "role": "admin"}, token="forged"
    )
    assert answer.status_code == 400 and "Phiên làm việc" in answer.get_data(as_text=True)
    with runtime.db.session() as db:
        assert "mallory" not in {u.username for u in services.list_users(db)}


def test_roles_gate_pages(client: FlaskClient) -> None:
    sign_in(client, "viewer")
    assert client.get("/bulletins").status_code == 200
    for path in ("/compose", "/approvals", "/users", "/emergency"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "Bạn không có quyền" in answer.get_data(as_text=True)
    page = client.get("/devices").get_data(as_text=True)
    assert "Soạn tin" not in page and "Khẩn cấp" not in page


def test_admin_adds_and_deactivates_a_user_who_then_cannot_sign_in(client: FlaskClient) -> None:
    sign_in(client, "admin")
    assert "approver2" in client.get("/users").get_data(as_text=True)
    answer = post(client, "/users", {"username": "thu.ha", "password": "mat-khau-dai", "role": "operator"})
    assert answer.status_code == 302
    assert "thu.ha" in client.get("/users").get_data(as_text=True)
    assert post(client, "/users/thu.ha/active", {"active": "0"}).status_code == 302
    page = client.get("/users").get_data(as_text=True)
    assert "Đã khóa" in page
    refused = post(client, "/users", {"username": "x", "password": "short", "role": "operator"})
    assert refused.status_code == 302
    assert "không hợp lệ" in client.get("/users").get_data(as_text=True)
    other = client.application.test_client()
    token = csrf(other)
    answer = other.post(
        "/login",
        data={"csrf_token": token, "username": "thu.ha", "password": "mat-khau-dai"},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 401


def test_a_deactivated_user_loses_the_open_session(client: FlaskClient) -> None:
    sign_in(client, "operator2")
    admin = client.application.test_client()
    sign_in(admin, "admin")
    post(admin, "/users/operator2/active", {"active": "0"})
    assert client.get("/bulletins").status_code == 302


def test_people_see_only_their_own_commune(client: FlaskClient, runtime: Runtime) -> None:
    with runtime.db.session() as db:
        services.create_commune(db, "nghia-lo", "Xã Nghĩa Lộ", runtime.now)
        services.create_user(db, "admin-nl", PASSWORD, "admin", runtime.now, commune_id="nghia-lo")
        operator = services.get_user(db, "operator")
        bulletin = services.create_bulletin(
            db, operator, runtime.now, title="Tin Tú Lệ", text="x", targets={"all": True}
        )
    sign_in(client, "admin-nl")
    assert "<td>operator</td>" not in client.get("/users").get_data(as_text=True)
    assert post(client, "/users/operator/active", {"active": "0"}).status_code == 404
    assert client.get(f"/bulletins/{bulletin.id}").status_code == 404
    assert "Tin Tú Lệ" not in client.get("/bulletins").get_data(as_text=True)
    assert "0/0" in client.get("/devices").get_data(as_text=True)
    assert client.get("/devices/tule-c01").status_code == 404


def test_the_html_login_shares_the_api_lockout(client: FlaskClient) -> None:
    token = csrf(client)
    wrong = {"csrf_token": token, "username": "approver", "password": "wrong-password"}
    for _ in range(5):
        assert client.post("/login", data=wrong, content_type="multipart/form-data").status_code == 401
    right = {"csrf_token": token, "username": "approver", "password": PASSWORD}
    answer = client.post("/login", data=right, content_type="multipart/form-data")
    assert answer.status_code == 429 and "thử lại sau 15 phút" in answer.get_data(as_text=True)
    api = client.post("/api/v1/auth/token", json={"username": "approver", "password": PASSWORD})
    assert api.status_code == 429 and "Retry-After" in api.headers


def _login(client: FlaskClient, next_: str) -> str:
    answer = client.post(
        "/login",
        data={"csrf_token": csrf(client), "username": "operator", "password": PASSWORD, "next": next_},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 302, answer.status_code
    return answer.headers["Location"]


def test_next_never_leaves_the_site_nor_breaks_the_redirect(client: FlaskClient) -> None:
    """Browsers drop tabs and line breaks from URLs: "/\\t/evil" is "//evil" (issue 20, items 10 and 13)."""
    for foreign in (
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\n/evil.example",
        "/\\evil.example",
        "/\\/evil.example",
        "https://evil.example/",
        "/devices\r\nSet-Cookie: x=1",
        " //evil.example",
    ):
        assert _login(client, foreign) == "/bulletins", repr(foreign)
    assert _login(client, "/plays?page=2") == "/plays?page=2"
    shown = client.get("/login?next=/%0d%0a/evil.example")
    assert shown.status_code == 200


def test_a_cookie_copied_before_logout_no_longer_works_after_it(
    client: FlaskClient, runtime: Runtime
) -> None:
    """Signing out ends the session on the server too (issue 20, item 11)."""
    sign_in(client, "operator")
    stolen = client.get_cookie("loaxa_session")
    assert stolen is not None
    assert client.get("/bulletins").status_code == 200
    assert post(client, "/logout", {}).status_code == 302
    client.set_cookie("loaxa_session", stolen.value)
    replayed = client.get("/bulletins")
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]
