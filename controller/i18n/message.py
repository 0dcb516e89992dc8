"""A message for a person, kept untranslated until the edge that shows it knows the reader's language.

`Message("The device {device} does not exist.", device=...)` holds an English msgid and its values;
`render(message, "vi")` looks the msgid up in the catalogue and fills the values in (values that are
Messages, or `Joined` lists of them, are rendered in the same language). `str(message)` is Vietnamese.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from controller.i18n._catalog import DEFAULT_LOCALE, translations


@dataclass(frozen=True, init=False, eq=False)
class Message:
    """An English msgid with `{name}` placeholders and the values that fill them."""

    msgid: str
    params: Mapping[str, Any]

    def __init__(self, msgid: str, /, **params: Any) -> None:
        object.__setattr__(self, "msgid", msgid)
        object.__setattr__(self, "params", params)

    def with_values(self, **params: Any) -> "Message":
        """The same msgid with (more) values: a message chosen early, filled in once they are known."""
        return Message(self.msgid, **{**self.params, **params})

    def render(self, locale: str = DEFAULT_LOCALE) -> str:
        """The text in `locale`, values filled in."""
        text = translations(locale).ugettext(self.msgid)
        # Always formatted, so a literal brace is written {{ }} in every msgid alike.
        return text.format(**{key: render(value, locale) for key, value in self.params.items()})

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, **{dict(self.params)!r})"


@dataclass(frozen=True)
class Joined:
    """Several texts shown as one, separated by `separator` (a list of problems, say)."""

    items: Sequence["Text | Joined"]
    separator: str = "; "

    def render(self, locale: str = DEFAULT_LOCALE) -> str:
        """Each item in `locale`, joined."""
        return self.separator.join(str(render(item, locale)) for item in self.items)

    def __str__(self) -> str:
        return self.render()


# What a message-bearing error or page helper accepts: already words (Vietnamese), or a Message.
Text = str | Message


def render(value: object, locale: str = DEFAULT_LOCALE) -> Any:
    """`value` rendered in `locale` when it is a Message or Joined; anything else unchanged."""
    return value.render(locale) if isinstance(value, Message | Joined) else value
