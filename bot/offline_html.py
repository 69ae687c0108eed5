"""Telegram's HTML parse mode, as the offline Bot API applies it to message text.

Telegram turns a text sent with ``parse_mode="HTML"`` into plain text plus
entities, and rejects the whole request when the markup is not valid. The
rules reproduced here follow the Bot API's "Formatting options" section:

* Supported tags are b/strong, i/em, u/ins, s/strike/del, tg-spoiler,
  span with class "tg-spoiler", a with href, code, pre, blockquote (with
  the optional ``expandable`` attribute) and tg-emoji with emoji-id. Any
  other tag, such as br or p, is rejected.
* Of the named character references only &lt;, &gt;, &amp; and &quot; are
  decoded, and numeric references are decoded. Other names, such as
  &nbsp;, are kept here as literal text (NOTE: not checked against the live
  Bot API).
* A "<" that does not open a supported tag must be written as &lt;.

Entity offsets and lengths are counted in UTF-16 code units, as the Bot API
counts them.

NOTE: the error descriptions after "can't parse entities:" imitate
Telegram's wording but may not match it word for word. Tests should check
the BadRequest type and the "can't parse entities" prefix, not the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_SPECIAL_TAGS = {"span", "a", "blockquote", "tg-emoji"}
_DECODED_NAMES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_REFERENCE = re.compile(r"&([A-Za-z][A-Za-z0-9]*)(;?)")
_TAG_NAME = re.compile(r"[^\s>/]*")


class HtmlParseError(ValueError):
    """Text that Telegram would reject. ``description`` is the Bot API error text."""

    def __init__(self, detail: str) -> None:
        self.description = f"Bad Request: can't parse entities: {detail}"
        super().__init__(self.description)


@dataclass(frozen=True, slots=True)
class ParsedText:
    """Plain text and the Bot API ``MessageEntity`` dicts that format it."""

    text: str
    entities: tuple[dict[str, Any], ...]


def parse_html(source: str) -> ParsedText:
    """Convert HTML-formatted message text to plain text and entities.

    Raises HtmlParseError for markup that Telegram rejects.
    """
    parser = _TelegramHtmlParser(source)
    parser.feed(source)
    parser.close()
    return parser.result()


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass(slots=True)
class _OpenTag:
    tag: str
    entity: dict[str, Any] | None
    start: int


class _TelegramHtmlParser(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self._source = source
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]
        self._parts: list[str] = []
        self._length = 0
        self._open: list[_OpenTag] = []
        self._entities: list[dict[str, Any]] = []

    def result(self) -> ParsedText:
        if self._open:
            raise HtmlParseError(
                f'Can\'t find end tag corresponding to start tag "{self._open[-1].tag}"'
            )
        entities = sorted(self._entities, key=lambda e: (e["offset"], -e["length"]))
        return ParsedText(text="".join(self._parts), entities=tuple(entities))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        entity = self._entity_for(tag, dict(attrs))
        self._open.append(_OpenTag(tag=tag, entity=entity, start=self._length))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self._open:
            raise HtmlParseError(f"Unexpected end tag at byte offset {self._offset()}")
        current = self._open.pop()
        if current.tag != tag:
            raise HtmlParseError(
                f"Unmatched end tag at byte offset {self._offset()}, "
                f'expected "</{current.tag}>", found "</{tag}>"'
            )
        length = self._length - current.start
        if current.entity is None or length == 0:
            return
        entity = dict(current.entity)
        if current.tag == "code":
            language = entity.pop("language", None)
            enclosing = self._open[-1] if self._open else None
            if enclosing is not None and enclosing.tag == "pre" and enclosing.entity is not None:
                # <pre><code class="language-x"> is one pre entity with a language.
                if language:
                    enclosing.entity["language"] = language
                return
        entity.update(offset=current.start, length=length)
        self._entities.append(entity)

    def handle_data(self, data: str) -> None:
        position = data.find("<")
        if position >= 0:
            index = self._index() + position
            name = _TAG_NAME.match(self._source, index + 1)
            tag = name.group(0) if name else ""
            byte_offset = len(self._source[:index].encode())
            if tag.lower() in _SIMPLE_TAGS or tag.lower() in _SPECIAL_TAGS:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset}")
            raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {byte_offset}')
        self._append(data)

    def handle_entityref(self, name: str) -> None:
        match = _ENTITY_REFERENCE.match(self._source, self._index())
        literal = match.group(0) if match else f"&{name}"
        if match and match.group(2) and name in _DECODED_NAMES:
            self._append(_DECODED_NAMES[name])
        else:
            self._append(literal)

    def handle_charref(self, name: str) -> None:
        try:
            code_point = int(name[1:], 16) if name[:1] in "xX" else int(name)
            self._append(chr(code_point))
        except (ValueError, OverflowError):
            self._append(f"&#{name};")

    def handle_comment(self, data: str) -> None:
        raise HtmlParseError(f'Unsupported start tag "!--" at byte offset {self._offset()}')

    def handle_decl(self, decl: str) -> None:
        raise HtmlParseError(f'Unsupported start tag "!" at byte offset {self._offset()}')

    def handle_pi(self, data: str) -> None:
        raise HtmlParseError(f'Unsupported start tag "?" at byte offset {self._offset()}')

    def unknown_decl(self, data: str) -> None:
        raise HtmlParseError(f'Unsupported start tag "!" at byte offset {self._offset()}')

    def _entity_for(self, tag: str, attrs: dict[str, str | None]) -> dict[str, Any] | None:
        if tag in _SIMPLE_TAGS:
            entity: dict[str, Any] = {"type": _SIMPLE_TAGS[tag]}
            language_class = attrs.get("class") or ""
            if tag == "code" and language_class.startswith("language-"):
                entity["language"] = language_class.removeprefix("language-")
            return entity
        if tag not in _SPECIAL_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
        if tag == "span":
            if attrs.get("class") != "tg-spoiler":
                raise HtmlParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {self._offset()}'
                )
            return {"type": "spoiler"}
        if tag == "a":
            href = attrs.get("href")
            return {"type": "text_link", "url": href} if href else None
        if tag == "blockquote":
            expandable = "expandable" in attrs
            return {"type": "expandable_blockquote" if expandable else "blockquote"}
        emoji_id = attrs.get("emoji-id")
        return {"type": "custom_emoji", "custom_emoji_id": emoji_id} if emoji_id else None

    def _append(self, text: str) -> None:
        self._parts.append(text)
        self._length += utf16_length(text)

    def _index(self) -> int:
        """Return the index in the source of the construct being handled."""
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _offset(self) -> int:
        return len(self._source[: self._index()].encode())
