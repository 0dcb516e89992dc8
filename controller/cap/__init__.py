"""CAP 1.2 (OASIS Common Alerting Protocol), both ways: alerts in from outside sources, loaxa's bulletins out.

The inbound adapter (DESIGN §12, docs/cap.md): `parse` reads a document with a parser that refuses DTDs,
entities and network access, and checks it against the OASIS schema; `signature` checks an XML signature;
`fetch` reads a source's URL (one alert, or an Atom/RSS feed of alerts); `geo` matches an alert's areas to
villages; `policy` decides what an alert becomes; `intake` ties these together and calls
controller.usecases. `publish` writes loaxa's approved bulletins as CAP 1.2 and as an Atom feed.
"""

from controller.cap.model import Alert, Area, CapRejected, Info, Resource

__all__ = ["Alert", "Area", "CapRejected", "Info", "Resource"]
