"""Checking what a producer is about to send against the limits of the receiving reader.

Owns helpers that run the agent's own readers over data as it enters the controller (the schedule loader
calls `check_plan_windows`), so a wire-format limit is met where the data enters rather than found when
every agent refuses every plan (issue 20, item 3). The limits themselves live with the readers.
"""

from protocol.messages import PlanBody, WindowSpec


def check_plan_windows(timezone: str, windows: tuple[WindowSpec, ...]) -> None:
    """Raise ProtocolError unless a plan carrying this time zone and these windows passes an agent's reader.

    Whatever produces windows (the schedule loader) calls this, so a limit of the wire format is met where
    the data enters rather than found when every agent refuses every plan (issue 20, item 3).
    """
    PlanBody.from_json(
        {
            "version": 1,
            "generated_at": "2000-01-01T00:00:00Z",
            "timezone": timezone,
            "windows": [w.to_json() for w in windows],
            "items": [],
        }
    )
