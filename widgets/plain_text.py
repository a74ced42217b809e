"""Outside text made harmless for the terminal: control characters shown, never sent.

Text from a cluster, a command, a probe or another user may hold terminal control sequences:
``ESC ] 2 ; title BEL`` retitles the window, OSC 52 writes the clipboard, CSI sequences move
the cursor and fake what is on screen. Textual and Rich pass ``ESC`` and the C1 controls
through to the terminal as they are, so every piece of outside text is shown through
``visible_controls`` first: each C0 control (except tab and newline), DEL and each C1 control
becomes one visible character (``ESC`` → ``␛``, ``BEL`` → ``␇``, C1 → ``�``). The mapping is
one character for one, so it can be applied to a Rich ``Text`` in place (``plain_cell``)
without moving its styles. The console uses the same function (console/ui/screen_text.py),
so there is one implementation.
"""

from __future__ import annotations

import re

from rich.text import Text

KEPT = "\t\n"
C1_SHOWN_AS = "\ufffd"  # Unicode has no pictures for the C1 controls

_TABLE: dict[int, str] = {code: chr(0x2400 + code) for code in range(0x20)
                          if chr(code) not in KEPT}
_TABLE[0x7F] = "\u2421"  # ␡
_TABLE.update({code: C1_SHOWN_AS for code in range(0x80, 0xA0)})
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def has_controls(text: str) -> bool:
    """Whether ``text`` holds a control character that would reach the terminal."""
    return _CONTROL.search(text) is not None


def visible_controls(text: str) -> str:
    """``text`` with every control character except tab and newline made visible, one
    character for one (``"\\x1b]2;x\\x07"`` → ``"␛]2;x␇"``)."""
    if not isinstance(text, str) or not has_controls(text):
        return text
    return text.translate(_TABLE)


def plain_text(text: str) -> str:
    """Outside text as it should be shown: Windows line ends as newlines, the rest of the
    control characters visible."""
    if not isinstance(text, str):
        text = str(text)
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return visible_controls(text)


def plain_cell(text: Text) -> Text:
    """``text`` (a Rich ``Text``, styles kept) with its control characters made visible, in
    place; returned for chaining."""
    plain = text.plain
    if has_controls(plain):
        text.plain = plain.translate(_TABLE)
    return text
