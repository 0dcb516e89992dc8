"""Loading the gettext catalogues: the `.po` files shipped in the package, compiled in memory.

Compiling at first use with Babel's own reader and writer (pure Python) means a clean clone, an
editable install and a wheel all read the same text, and no compiled `.mo` can drift from its `.po`.
"""

import functools
import io
from pathlib import Path
from typing import Final

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

DEFAULT_LOCALE: Final = "vi"
# `en` is the msgid language: it has no catalogue, gettext returns the msgid.
LOCALES: Final = ("vi", "en")
DOMAIN: Final = "loaxa"
LOCALE_DIR: Final = Path(__file__).parent / "locales"


def catalogue_path(locale: str) -> Path:
    """Where the `.po` file of `locale` lives."""
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(locale: str) -> NullTranslations:
    """The compiled translations of `locale` (English and unknown locales return msgids unchanged)."""
    path = catalogue_path(locale)
    if not path.is_file():
        return NullTranslations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)
