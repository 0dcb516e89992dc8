"""Public pages and feeds, no login (DESIGN §8, §12): listen again, the podcast feed, the CAP Atom feed.

Owns `/nghe-lai` (web.public.listen), `/feeds/...` (web.public.feeds) and the public audio path. They show
only what controller.services.public_feeds calls public: approved bulletins, never devices or staff.
Audio is served by content address (its sha256) only when it belongs to a public bulletin, so the
agents' signed URLs are never handed out.
"""

from web.public.audio import bp as audio_bp
from web.public.feeds import bp as feeds_bp
from web.public.listen import bp as listen_bp

BLUEPRINTS = (listen_bp, feeds_bp, audio_bp)

__all__ = ["BLUEPRINTS"]
