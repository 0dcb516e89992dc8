"""The bulletin list pages through a province's bulletins instead of cutting them off."""

import re
from datetime import timedelta

from flask.testing import FlaskClient

from controller import services
from tests.web.conftest import NOW, Runtime
from tests.web.ui_support import sign_in
from web.ui.bulletins import PAGE_SIZE


def test_bulletin_list_pages_newest_first(client: FlaskClient, runtime: Runtime) -> None:
    with runtime.db.session() as db:
        operator = next(u for u in services.list_users(db) if u.username == "operator")
        for n in range(PAGE_SIZE + 5):
            services.create_bulletin(
                db,
                operator,
                NOW + timedelta(minutes=n),
                title=f"Tin số {n}",
                text="Họp thôn.",
                targets={"all": True},
            )
    sign_in(client, "viewer")
    first = client.get("/bulletins").get_data(as_text=True)
    titles = re.findall(r">Tin số (\d+)</a>", first)
    assert titles == [str(n) for n in range(PAGE_SIZE + 4, 4, -1)]
    assert "Cũ hơn ›" in first and "‹ Mới hơn" not in first
    second = client.get("/bulletins?trang=2").get_data(as_text=True)
    assert re.findall(r">Tin số (\d+)</a>", second) == ["4", "3", "2", "1", "0"]
    assert "‹ Mới hơn" in second and "Cũ hơn ›" not in second
    drafts = client.get("/bulletins?status=draft&trang=2").get_data(as_text=True)
    assert "status=draft&amp;trang=1" in drafts
