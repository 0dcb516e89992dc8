"""Live end to end on a province's own Icecast (LOAXA_STREAM_MODE=external, issue 13): the real controller
with no Icecast of its own, a second real Icecast2 configured by hand as docs/streaming.md asks a province
to (its listeners checked by the controller's listener-auth endpoint), two real agents into their file
sinks, ffmpeg as the studio's source.

The ingest URL carries the province's source login; the controller sees the sender through that server's
status-json.xsl and sends `live_start` with listener URLs on it; both agents air the tone; ending kicks
the sender with the source login, sends `live_stop` and archives the recording.
"""

import time
import urllib.request
from functools import partial
from pathlib import Path

from controller.streaming import LISTENER_AUTH_PATH
from tests.edge_agent.streams import aired
from tests.integration.conftest import deployed, wait_for
from tests.integration.test_live import both_sinks, finished, live_plays, online, session, source
from tests.support.province_icecast import SOURCE_PASSWORD, province_icecast
from tests.support.services import free_port

CLUSTERS = ["tule-c01", "tule-c02"]


def test_live_through_a_province_icecast_to_two_agents(tmp_path: Path) -> None:
    port = free_port()
    stream = {"stream__mode": "external", "stream__url": f"http://127.0.0.1:{port}",
              "stream__source_password": SOURCE_PASSWORD}  # fmt: skip
    with deployed(tmp_path, opens_in_s=600, length_s=60, **stream) as deployment:
        assert deployment.controller.streaming.icecast is None  # no Icecast of our own
        auth_url = f"http://127.0.0.1:{deployment.controller.web.port}{LISTENER_AUTH_PATH}"
        with province_icecast(auth_url, port=port) as province:
            homes = {device: deployment.start_agent(device) for device in CLUSTERS}
            for device in CLUSTERS:
                wait_for(f"{device} online", partial(online, deployment, device), timeout=30)
            body = {"title": "Họp dân qua đài tỉnh", "targets": {"clusters": CLUSTERS}}
            status, opened = deployment.api.call("POST", "/live", body, user="approver")
            assert status == 201, opened
            assert opened["ingest_url"].startswith(
                f"icecast://source:{SOURCE_PASSWORD}@127.0.0.1:{port}/live-"
            )
            session_id = opened["id"]
            with source(opened["ingest_url"]) as sender:
                wait_for("on air", lambda: session(deployment, session_id)["state"] == "on_air", timeout=30)
                for device in CLUSTERS:
                    wait_for(
                        f"{device} airs live", partial(live_plays, deployment, device, session_id), timeout=30
                    )
                time.sleep(4)  # let the agents air a few seconds of tone
                status, ended = deployment.api.call("POST", f"/live/{session_id}/end", user="approver")
                assert status == 200, ended
                assert sender.wait(15) != 0  # the province's Icecast dropped the sender when we kicked it
            assert (ended["state"], ended["end_reason"]) == ("ended", "ended")
            entries = wait_for("both sinks", lambda: both_sinks(homes, session_id), timeout=30)
            for device, entry in entries.items():
                heard = aired(homes[device] / "played" / entry["file"])
                assert heard.count(440) >= 2, (device, heard)
            for device in CLUSTERS:
                wait_for(f"{device} finished", partial(finished, deployment, device, session_id), timeout=30)
            assert ended["recording_url"] is not None
            with urllib.request.urlopen(ended["recording_url"], timeout=10) as response:
                assert len(response.read()) > 5_000
            log = province.log.read_text(errors="replace")
            # The two agents and the recorder listened on the province's server, admitted by our check.
            assert f"3 active listeners on /live-{session_id} released" in log
