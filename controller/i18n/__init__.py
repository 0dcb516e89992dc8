"""Words people read, in their language: messages kept as gettext msgids, catalogues, Vietnamese formats.

Vietnamese (`vi`) is the language of every page, e-mail, CLI line and default API message; English is
the msgid itself, so asking the API for `en` needs no catalogue. Services raise with a `Message` (an
English msgid and its values); the edge that shows it (web, CLI, e-mail) renders it in the reader's
locale. Owns the catalogues and number/unit/date formats; must not know HTTP, the database or a domain rule.
"""

from controller.i18n._catalog import DEFAULT_LOCALE, LOCALES, translations
from controller.i18n.format import (
    format_bytes,
    format_datetime,
    format_decimal,
    format_duration,
    format_megabytes,
    format_percent,
)
from controller.i18n.message import Joined, Message, Text, render

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "Joined",
    "Message",
    "Text",
    "format_bytes",
    "format_datetime",
    "format_decimal",
    "format_duration",
    "format_megabytes",
    "format_percent",
    "render",
    "translations",
]
