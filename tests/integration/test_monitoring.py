"""Monitoring on a real controller: /metrics for admins and the metrics token, alerts by e-mail (a real
aiosmtpd server), webhook and SMS gateway (a local HTTP server) when clusters are offline in a window.
"""

import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from aiosmtpd.controller import Controller as SmtpServer
from aiosmtpd.handlers import Message as MessageHandler

from tests.integration.conftest import Deployment, deployed, wait_for
from tests.support.services import free_port

METRICS_TOKEN = "metrics-secret-for-prometheus"


def _get_metrics(deployment: Deployment, token: str | None) -> tuple[int, str]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(
        f"{deployment.api.base.removesuffix('/api/v1')}/metrics", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _token(deployment: Deployment, user: str) -> str:
    deployment.api.call("GET", "/devices", user=user)  # signs in and keeps the token
    return deployment.api.tokens[user]


def test_metrics_need_an_admin_or_the_metrics_token_and_show_the_fleet(tmp_path: Path) -> None:
    with deployed(tmp_path, opens_in_s=3600, length_s=60, metrics_token=METRICS_TOKEN) as deployment:
        deployment.start_agent("tule-c01")
        wait_for("tule-c01 online", lambda: deployment.device("tule-c01")["online"], timeout=30)
        status, body = _get_metrics(deployment, None)
        assert status == 401 and json.loads(body)["error"]["code"]
        assert _get_metrics(deployment, "not-a-token")[0] == 401
        assert _get_metrics(deployment, _token(deployment, "operator"))[0] == 403
        for token in (_token(deployment, "admin"), METRICS_TOKEN):
            status, text = _get_metrics(deployment, token)
            assert status == 200
            lines = set(text.splitlines())
            assert 'loaxa_clusters{state="online"} 1.0' in lines
            assert 'loaxa_clusters{state="offline"} 11.0' in lines
            assert "loaxa_mqtt_connected 1.0" in lines
            assert "loaxa_broker_up 1.0" in lines
            assert "loaxa_broker_restarts_total 0.0" in lines
            assert any(line.startswith('loaxa_ingest_accepted_total{channel="heartbeat"}') for line in lines)
            assert any(line.startswith("loaxa_planning_runs_total") for line in lines)
            route = 'loaxa_http_requests_total{method="GET",route="/api/v1/devices/<device_id>",status="200"}'
            assert any(line.startswith(route) for line in lines)
        # The Grafana dashboard in docs/ asks only for figures the controller exports.
        dashboard = Path(__file__).parents[2] / "docs" / "grafana-dashboard.json"
        names = set(re.findall(r"loaxa_[a-z0-9_]+", dashboard.read_text(encoding="utf-8")))
        exported = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")}
        exported |= {f"{name}_bucket" for name in exported} | {f"{name}_total" for name in exported}
        assert names and names <= exported, names - exported


Post = tuple[str, dict[str, Any], str]  # path, JSON body, Authorization header


class _Recorder(BaseHTTPRequestHandler):
    received: ClassVar[list[Post]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
        self.received.append((self.path, body, self.headers.get("authorization", "")))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def gateway() -> Iterator[tuple[str, list[Post]]]:
    """A local HTTP server standing for a webhook receiver and an SMS gateway; yields (base URL, posts)."""
    received: list[Post] = []
    handler = type("Recorder", (_Recorder,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


class _Inbox(MessageHandler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []

    def handle_message(self, message: Message) -> None:
        self.messages.append(message)


def _subject(message: Message) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_clusters_offline_in_a_window_are_alerted_by_email_webhook_and_sms(
    tmp_path: Path, gateway: tuple[str, list[Post]]
) -> None:
    base, posts = gateway
    inbox = _Inbox()
    smtp = SmtpServer(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        with deployed(
            tmp_path,
            opens_in_s=8,
            length_s=60,
            alerts__smtp_host="127.0.0.1",
            alerts__smtp_port=smtp.port,
            alerts__smtp_starttls=False,
            alerts__email_to=("truongdai@tule.example",),
            alerts__webhook_url=f"{base}/hook",
            alerts__sms_url=f"{base}/sms",
            alerts__sms_token="sms-gateway-key",
            alerts__sms_to=("+84900000001",),
        ) as deployment:
            monitoring = deployment.controller.monitoring
            devices = {device for device in deployment.passwords}
            deployment.start_agent("tule-c01")
            wait_for("tule-c01 online", lambda: deployment.device("tule-c01")["online"], timeout=30)
            monitoring.check_alerts()
            subjects = [m["Subject"] for m in inbox.messages]
            assert not subjects, f"nothing is wrong before the window opens, yet: {subjects}"
            wait_for("the window open", lambda: datetime.now(UTC) >= deployment.window.start, timeout=30)
            monitoring.check_alerts()
            offline = devices - {"tule-c01"}
            wait_for(
                "one e-mail per offline cluster", lambda: len(inbox.messages) == len(offline), timeout=30
            )
            subjects = sorted(_subject(m) for m in inbox.messages)
            assert subjects[0] == "[KHẨN] Cụm loa tule-c02 mất kết nối trong giờ phát"
            assert all("tule-c01" not in s for s in subjects)
            hooks = [body for path, body, _ in posts if path == "/hook"]
            assert {h["kind"] for h in hooks} == {"cluster_offline"} and len(hooks) == len(offline)
            sms = [(body, auth) for path, body, auth in posts if path == "/sms"]
            assert len(sms) == len(offline)
            assert sms[0][0]["to"] == "+84900000001" and sms[0][1] == "Bearer sms-gateway-key"
            monitoring.check_alerts()  # still offline: nothing new is sent
            assert len(inbox.messages) == len(offline)
            text = _get_metrics_text(deployment)
            assert 'loaxa_alerts_firing{kind="cluster_offline"} 11.0' in text
            assert 'loaxa_alert_notifications_total{channel="email",result="sent"} 11.0' in text
    finally:
        smtp.stop()


def _get_metrics_text(deployment: Deployment) -> str:
    status, text = _get_metrics(deployment, _token(deployment, "admin"))
    assert status == 200
    return text
