"""User strings in messages: cut to a length a terminal shows, and lists cut to their first few."""

from __future__ import annotations

from collections.abc import Iterable

LIMIT = 80  # characters of a user's string a message quotes
MOST = 5  # items of a list a message names


def cut(text: str, limit: int = LIMIT) -> str:
    """`text` itself, or its first `limit` characters and an ellipsis with the length it had."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def quoted(text: str, limit: int = LIMIT) -> str:
    """`repr(text)`, cut as `cut` does: a 1 MB name in a file prints as its first 80 characters."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}… ({len(text):,} characters)"


def listed(items: Iterable[str], most: int = MOST, quote: bool = False) -> str:
    """The items joined by commas, each cut, the first `most` of them and "… and N more"."""
    items = list(items)
    shown = [quoted(item) if quote else cut(item) for item in items[:most]]
    rest = f" … and {len(items) - most:,} more" if len(items) > most else ""
    return ", ".join(shown) + rest
