"""`loaxa demo` and `loaxa simulate`: a whole commune on one machine, and load from many fake clusters.

The demo seeds the Tú Lệ commune, starts the controller with its managed broker and one simulated agent
per cluster (playing into files), then serves until interrupted. Owns the demo's set-up and what it
prints; everything it runs is the real controller and the real agent.
"""

import json
import os
import shutil
import signal
import socket
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from controller import services, tls
from controller.bundle import AgentBundle
from controller.children import stop_leftover
from controller.config import Settings
from controller.services.seed import USERS, demo_device_password
from loaxa.errors import CliError
from loaxa.fleet import (
    AGENTS_PER_PROCESS,
    Fleet,
    FleetProcesses,
    simulated_bundle,
    write_simulated_agent,
)
from loaxa.runtime import Controller
from protocol.broker_url import parse_broker_url

DEFAULT_DEMO_PASSWORD = "loaxa-demo"  # noqa: S105  # the documented demo default, printed at start


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def demo_settings(settings: Settings) -> Settings:
    """The demo's settings: its own data directory, and a free broker port if 1883 is taken.

    A broker an earlier demo left running (killed in a way that could not stop its children) is stopped
    first, so the port stays the configured one.
    """
    broker_dir = settings.model_copy(update={"data_dir": settings.data_dir / "demo"}).broker_dir
    stop_leftover(broker_dir / "mosquitto.pid", str(broker_dir / "mosquitto.conf"))
    host, port, _tls = parse_broker_url(settings.mqtt.url)
    if not _port_free(host, port):
        port = _free_port(host)
    if not _port_free(settings.http.host, settings.http.port):
        raise CliError(
            f"port {settings.http.port} on {settings.http.host} is in use; "
            "stop what uses it or choose another with LOAXA_PORT=8081 make demo"
        )
    mqtt: dict[str, object] = {"url": f"mqtt://{host}:{port}", "mode": "managed"}
    if settings.mqtt.tls_port is not None:
        # The demo's agents are on this machine: the TLS listener need not face the network.
        mqtt["tls_host"] = host
    return settings.model_copy(
        update={"data_dir": settings.data_dir / "demo", "mqtt": settings.mqtt.model_copy(update=mqtt)}
    )


def _agent_broker(settings: Settings) -> tuple[str, str | None]:
    """The broker URL (and CA file) the demo's agents use: TLS when LOAXA_MQTT_TLS_PORT asks for it."""
    if settings.mqtt.tls_port is None:
        return settings.mqtt.url, None
    files = tls.tls_files(settings.data_dir)
    host = settings.mqtt.tls_host
    tls.generate(files, [host, "localhost"], datetime.now(UTC))
    return f"mqtts://{host}:{settings.mqtt.tls_port}", str(files.ca_cert)


def _wait_for_signal() -> None:
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()


def demo_fleet(configs: list[Path]) -> FleetProcesses:
    """The demo's agents, one process each: none shares the fate of the controller or of another agent."""
    return FleetProcesses(configs, per_process=1)


def run_demo(settings: Settings, *, agents: int = 12, fresh: bool = True) -> None:
    """Seed the demo commune, start the controller and `agents` simulated clusters, serve until stopped."""
    password = os.environ.get("LOAXA_DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD)
    settings = demo_settings(settings)
    if fresh and settings.data_dir.exists():
        shutil.rmtree(settings.data_dir)
    print(f"[1/4] cơ sở dữ liệu và khoá ký ở {settings.data_dir}", flush=True)
    agent_url, ca_file = _agent_broker(settings)
    controller = Controller(settings)
    with controller.db.session() as session:
        devices = sorted(services.seed_demo(session, datetime.now(UTC), password))[:agents]
    print(f"[2/4] đã tạo xã mẫu: Xã Tú Lệ, 9 thôn bản, {len(devices)} cụm loa", flush=True)
    controller.start()
    print(f"[3/4] bộ điều khiển và máy chủ MQTT đang chạy (cụm loa kết nối tới {agent_url})", flush=True)
    if controller.streaming.base_url is not None:
        print(f"      máy chủ phát luồng (Icecast) ở {controller.streaming.base_url}", flush=True)
    root = settings.data_dir / "agents"
    for device in devices:
        write_simulated_agent(
            root,
            replace(
                simulated_bundle(
                    device,
                    demo_device_password(password, device),
                    agent_url,
                    controller.keys.public_keys_b64,
                    settings.mqtt.heartbeat_interval_s,
                ),
                ca_file=ca_file or AgentBundle.ca_file,
            ),
        )
    fleet = demo_fleet([root / device / "agent.toml" for device in devices])
    fleet.start(lambda n, total: print(f"[4/4] cụm loa mô phỏng đã chạy: {n}/{total}", flush=True))
    url = f"http://{settings.http.host}:{controller.web.port}"
    logins = ", ".join(username for username, _role in USERS)
    windows = ", ".join(f"{w.name} {w.start[:5]}–{w.end[:5]}" for w in controller.schedule.windows)
    print(
        f"\n\nBản chạy thử loaxa đang chạy: {url}  (API {url}/api/v1, OpenAPI {url}/api/v1/openapi.json)\n"
        f"Tài khoản: {logins} — mật khẩu {password!r} (đặt bằng LOAXA_DEMO_PASSWORD)\n"
        f"Khung giờ phát: {windows} "
        f"{controller.schedule.timezone.key} (LOAXA_SCHEDULE chọn tệp khác)\n"
        f"Cụm loa mô phỏng phát vào {root}/<mã cụm loa>/played/\n"
        "Bấm Ctrl+C để dừng.",
        flush=True,
    )
    try:
        _wait_for_signal()
    finally:
        print("\nđang dừng…", flush=True)
        fleet.stop()
        controller.stop()


def _api(base: str, path: str, body: dict[str, object], token: str | None = None) -> dict[str, object]:
    request = urllib.request.Request(  # noqa: S310  # the URL is the operator's own controller
        f"{base}/api/v1{path}",
        data=json.dumps(body).encode(),
        headers={
            "content-type": "application/json",
            **({"authorization": f"Bearer {token}"} if token else {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            result: dict[str, object] = json.load(response)
            return result
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise CliError(f"{path}: HTTP {exc.code}: {detail}") from exc
    except urllib.error.URLError as exc:
        raise CliError(f"cannot reach the controller at {base}: {exc.reason}; is it running?") from exc


def run_simulation(settings: Settings, *, agents: int, per_process: int = AGENTS_PER_PROCESS) -> None:
    """Provision `agents` simulated clusters on a running controller (REST, as admin) and run them.

    At most `per_process` agents run in one process; more start fleet processes.
    """
    if agents < 1:
        raise CliError("--agents must be at least 1")
    if not 1 <= per_process <= AGENTS_PER_PROCESS:
        raise CliError(
            f"--per-process must be 1..{AGENTS_PER_PROCESS} (paho's select() limit), got {per_process}"
        )
    base = os.environ.get("LOAXA_URL", f"http://{settings.http.host}:{settings.http.port}")
    username = os.environ.get("LOAXA_ADMIN_USER", "admin")
    password = os.environ.get(
        "LOAXA_ADMIN_PASSWORD", os.environ.get("LOAXA_DEMO_PASSWORD", DEFAULT_DEMO_PASSWORD)
    )
    village = os.environ.get("LOAXA_SIM_VILLAGE", "ban-lim")
    token = str(_api(base, "/auth/token", {"username": username, "password": password})["token"])
    root = settings.data_dir / "simulate"
    configs = []
    stamp = datetime.now(UTC).strftime("%H%M%S")
    for number in range(1, agents + 1):
        device_id = f"sim-{stamp}-{number:05d}"
        answer = _api(
            base, "/devices", {"id": device_id, "name": f"Mô phỏng {number}", "village": village}, token
        )
        credentials = answer.get("credentials")
        if not isinstance(credentials, dict):
            raise CliError(f"provisioning {device_id}: the answer carries no credentials: {answer}")
        bundle = simulated_bundle(
            device_id,
            str(credentials["password"]),
            str(credentials["broker_url"]),
            tuple(str(k) for k in credentials["public_keys"]),
            settings.mqtt.heartbeat_interval_s,
        )
        configs.append(write_simulated_agent(root, bundle))
        print(f"\rđã cấp {number}/{agents} cụm loa", end="", file=sys.stderr, flush=True)

    def started(n: int, total: int) -> None:
        print(f"\rđã chạy {n}/{total} cụm loa", end="", file=sys.stderr, flush=True)

    fleet: Fleet | FleetProcesses
    if agents <= per_process:
        fleet = Fleet(configs)
        fleet.start(started)
        print(f"\n{fleet.connected()}/{agents} cụm loa đã kết nối; bấm Ctrl+C để dừng", file=sys.stderr)
    else:
        fleet = FleetProcesses([root / c.device_id / "agent.toml" for c in configs], per_process)
        fleet.start(started)
        print(
            f"\n{agents} cụm loa trong {len(fleet.processes)} tiến trình (tối đa {per_process} mỗi nơi); "
            "trang Thiết bị cho thấy chúng trực tuyến; bấm Ctrl+C để dừng",
            file=sys.stderr,
        )
    try:
        _wait_for_signal()
    finally:
        fleet.stop()
