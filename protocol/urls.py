"""Stream URLs: shown without the credentials they were opened with, and told apart when they are HLS.

An agent opens a live or relayed stream with its own listener credentials (the controller's signed
`expires`/`device`/`sig` query, DESIGN §13) or with a station's `user:password@`; the as-run log and the
pages must show which stream aired, never a credential another person could replay. Owns that one rule,
so the agent (before it reports) and the controller (reading events of older agents) strip the same parts.
Both sides also tell an HLS playlist the same way (Icecast cannot relay one; agents air it as a plain
jitter buffer).
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that carry a credential: ours (controller.streaming.listeners, controller.assets) and the
# usual names of stations' own tokens.
SECRET_PARAMS = frozenset(
    {"sig", "expires", "device", "token", "access_token", "key", "password", "pass", "auth"}
)


def is_hls(url: str) -> bool:
    """Whether a stream URL is an HLS playlist (`.m3u8`): segments fetched in turn, not one stream."""
    return urlsplit(url).path.lower().endswith(".m3u8")


def without_credentials(url: str) -> str:
    """`url` with any `user:password@` and credential query parameters removed; other parameters kept."""
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL urllib can split: keep nothing after the path
        return url.split("?", 1)[0].split("#", 1)[0]
    netloc = parts.netloc.rpartition("@")[2]
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in SECRET_PARAMS
    ]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), parts.fragment))
