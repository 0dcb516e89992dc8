"""Which language a request is answered in, and the catalogue Flask-Babel and the templates use.

Pages, flashes and e-mails are Vietnamese. The REST API answers `message` in the best match of the
request's `Accept-Language` among `vi` and `en` (Vietnamese when the header is missing or matches
neither); the error `code` is the same stable English word in both. Owns the locale choice only;
the catalogues and formats are controller.i18n.
"""

from typing import Any, Final

from babel.support import NullTranslations
from flask import Flask, has_request_context, request
from flask_babel import Babel, Domain, get_locale

from controller.i18n import DEFAULT_LOCALE, LOCALES, Message, render, translations

API_PATH: Final = "/api/"


class _CatalogueDomain(Domain):  # type: ignore[misc]  # flask_babel ships no type information
    """Flask-Babel's domain reading controller.i18n's in-memory compiled catalogues."""

    def get_translations(self) -> NullTranslations:
        return translations(current_locale())


def _select_locale() -> str:
    if request.path.startswith(API_PATH):
        return request.accept_languages.best_match(LOCALES, default=DEFAULT_LOCALE) or DEFAULT_LOCALE
    return DEFAULT_LOCALE


def current_locale() -> str:
    """The request's language (`vi` or `en`); Vietnamese outside a request."""
    if not has_request_context():
        return DEFAULT_LOCALE
    locale = get_locale()
    return DEFAULT_LOCALE if locale is None else str(locale)


def localize(value: object) -> Any:
    """A Message rendered in the request's language; any other value unchanged."""
    return render(value, current_locale()) if isinstance(value, Message) else value


def install(app: Flask) -> None:
    """Set up Flask-Babel with the locale choice above and the catalogue domain."""
    Babel(
        app, locale_selector=_select_locale, default_locale=DEFAULT_LOCALE, default_domain=_CatalogueDomain()
    )
