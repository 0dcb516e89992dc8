"""From the database to the speakers (DESIGN §4): speech, planning runs, signed plans and commands.

- `speech`: a bulletin's Vietnamese speech, rendered once and attached.
- `inputs`: what goes into a planning run (bulletins, devices, windows, pins), read from the database.
- `listeners`: which devices listen on their area topics (one message per area instead of per device).
- `publisher`: signing and publishing plans and commands, and noting what the broker took.
- `dispatcher`: one planning run at a time, joining the three; what the runtime calls.

None of these decides *where* items go (controller.planning does) or touches SQL (controller.services does).
"""

from controller.dispatch.dispatcher import Dispatcher, ReplanReport
from controller.dispatch.publisher import Publisher
from controller.dispatch.speech import register_render

__all__ = ["Dispatcher", "Publisher", "ReplanReport", "register_render"]
