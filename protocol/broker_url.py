"""The broker address both sides read: `mqtt://host:port` or `mqtts://host:port` (DESIGN §5).

Owns that one parser, so the controller and the agent accept and refuse the same URLs with the same words.
"""

from urllib.parse import urlsplit


def parse_broker_url(url: str) -> tuple[str, int, bool]:
    """Split a broker URL into (host, port, tls); ValueError with what to write instead."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts"):
        raise ValueError(f"broker URL must look like mqtt://host:1883 or mqtts://host:8883, got {url!r}")
    if not parts.hostname:
        raise ValueError(f"broker URL has no host: {url!r}")
    tls = parts.scheme == "mqtts"
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError as exc:
        raise ValueError(f"broker URL has a bad port: {url!r}") from exc
    return parts.hostname, port, tls
