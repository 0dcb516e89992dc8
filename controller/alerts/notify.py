"""Notification channels for alerts: e-mail over SMTP, a JSON webhook, and an SMS gateway's webhook.

Owns how one alert (started or ended) becomes a message on each channel; decides nothing about which
alerts exist. Each channel raises on failure (the engine counts and logs it and tries again next time).
"""

import json
import smtplib
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from controller.alerts.rules import Alert
from controller.config import AlertSettings

TIMEOUT_S = 10.0


def wording(alert: Alert, resolved: bool) -> tuple[str, str]:
    """Subject and body for people, in Vietnamese: a problem, or the news that it is over."""
    if resolved:
        return f"Đã khắc phục: {alert.subject}", f"Sự cố sau đã hết, không cần làm gì thêm.\n\n{alert.text}"
    level = "KHẨN" if alert.severity == "critical" else "Cảnh báo"
    return f"[{level}] {alert.subject}", alert.text


class Notifier(Protocol):
    """One channel."""

    @property
    def name(self) -> str:
        """The channel's name in logs and metrics."""

    def send(self, alert: Alert, resolved: bool) -> None:
        """Deliver one alert or its end; raise when the channel did not take it."""


@dataclass(frozen=True)
class EmailNotifier:
    """Alert e-mails through an SMTP server (STARTTLS and login when configured)."""

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    starttls: bool = True
    username: str | None = None
    password: str | None = None
    name: str = "email"

    def send(self, alert: Alert, resolved: bool) -> None:
        """Send one e-mail to every recipient."""
        subject, body = wording(alert, resolved)
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message.set_content(body + "\n\n-- \nloaxa, hệ thống truyền thanh thông minh\n")
        with smtplib.SMTP(self.host, self.port, timeout=TIMEOUT_S) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def _post_json(url: str, body: object, token: str | None = None) -> None:
    headers = {"content-type": "application/json; charset=utf-8"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(  # noqa: S310 - the operator's configured URL
        url, data=json.dumps(body, ensure_ascii=False).encode(), headers=headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_S):  # noqa: S310 - raises on 4xx/5xx
        pass


@dataclass(frozen=True)
class WebhookNotifier:
    """Each alert as JSON to a URL (chat bridges, an incident tool)."""

    url: str
    name: str = "webhook"

    def send(self, alert: Alert, resolved: bool) -> None:
        """POST `{key, kind, severity, state, subject, text}`."""
        subject, text = wording(alert, resolved)
        state = "resolved" if resolved else "firing"
        body = {"key": alert.key, "kind": alert.kind, "severity": alert.severity, "state": state}
        _post_json(self.url, body | {"subject": subject, "text": text})


@dataclass(frozen=True)
class SmsNotifier:
    """A short text per phone number through an SMS gateway's HTTP API: POST `{to, message}`."""

    url: str
    recipients: tuple[str, ...]
    token: str | None = None
    name: str = "sms"

    def send(self, alert: Alert, resolved: bool) -> None:
        """One POST per recipient; the message is the subject (an SMS holds little)."""
        subject, _text = wording(alert, resolved)
        for number in self.recipients:
            _post_json(self.url, {"to": number, "message": f"loaxa: {subject}"}, self.token)


def notifiers_for(settings: AlertSettings) -> Sequence[Notifier]:
    """The channels the settings configure (none: alerts are only logged and counted)."""
    channels: list[Notifier] = []
    if settings.smtp_host and settings.email_to:
        channels.append(
            EmailNotifier(
                settings.smtp_host,
                settings.smtp_port,
                settings.email_from,
                settings.email_to,
                settings.smtp_starttls,
                settings.smtp_username,
                settings.smtp_password,
            )
        )
    if settings.webhook_url:
        channels.append(WebhookNotifier(settings.webhook_url))
    if settings.sms_url and settings.sms_to:
        channels.append(SmsNotifier(settings.sms_url, settings.sms_to, settings.sms_token))
    return channels
