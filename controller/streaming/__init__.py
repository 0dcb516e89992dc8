"""The streaming server for relayed stations and live sessions (DESIGN §13): Icecast2, managed or external."""

from controller.streaming.icecast import ManagedIcecast
from controller.streaming.icecast_config import LISTENER_AUTH_PATH, RelayMount, relay_mount, relayable
from controller.streaming.listeners import Listener, ListenerRefused, check_listener, sign_listener_url
from controller.streaming.server import StationUrls, StreamingServer

__all__ = [
    "LISTENER_AUTH_PATH",
    "Listener",
    "ListenerRefused",
    "ManagedIcecast",
    "RelayMount",
    "StationUrls",
    "StreamingServer",
    "check_listener",
    "relay_mount",
    "relayable",
    "sign_listener_url",
]
