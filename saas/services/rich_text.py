"""Rich text: the one HTML sanitiser (nh3) and a small, safe Markdown subset for chat messages.

Messages are Markdown-ish plain text: **bold**, *italic*, `code`, fenced code blocks, - and 1.
lists, [links](https://…) and bare URLs. Everything the sender typed is escaped first, so a
``<script>`` stays readable text; the markup we generate then passes the same nh3 sanitiser as
knowledge-base answers, which keeps only http, https and mailto links, each with
``rel="noopener noreferrer nofollow"`` (and, in messages, opening in a new tab).
"""
import html
import re

import nh3

URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer nofollow"
MESSAGE_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "code", "pre"}
MESSAGE_ATTRIBUTES = {"a": {"href"}}


def sanitise(markup: str, tags: set[str], attributes: dict[str, set[str]], *, new_tab: bool = False) -> str:
    """Only the given tags and attributes, only http(s) and mailto links, each with LINK_REL; with
    ``new_tab`` links also open in a new tab (stored knowledge-base answers leave that to clients)."""
    return nh3.clean(markup, tags=tags, attributes=attributes, url_schemes=URL_SCHEMES, link_rel=LINK_REL,
                     set_tag_attribute_values={"a": {"target": "_blank"}} if new_tab else None)


_FENCE = re.compile(r"^\s*```")
_BULLET = re.compile(r"^\s*[-*+]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*\d{1,9}[.)]\s+(.*)$")
_CODE_SPAN = re.compile(r"(`[^`\n]+`)")
# A [label](target) link, or a bare URL (trailing punctuation belongs to the sentence, not the link).
_LINK = re.compile(
    r"\[(?P<label>[^\]\n]{1,500})\]\((?P<target>[^\s()]{1,2000})\)"
    r"|(?P<url>\b(?:https?://|mailto:)[^\s<>\"'`]+[^\s<>\"'`.,:;!?)\]}])"
)
_EMPHASIS = (
    (re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<!\w)__(?=\S)(.+?)(?<=\S)__(?!\w)"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"), r"<em>\1</em>"),
    (re.compile(r"(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)"), r"<em>\1</em>"),
)
_FORMATTING_TAG = re.compile(r"<(?!/?(?:p|br)\b)")
# Every construct above needs one of these: text without any renders as plain paragraphs.
_MAYBE_FORMATTED = re.compile(r"[*_`\[:]|^\s*(?:[-+]|\d{1,9}[.)])\s", re.MULTILINE)


def _emphasis(escaped: str) -> str:
    for pattern, replacement in _EMPHASIS:
        escaped = pattern.sub(replacement, escaped)
    return escaped


def _links(text: str) -> str:
    out, at = [], 0
    for match in _LINK.finditer(text):
        out.append(_emphasis(html.escape(text[at:match.start()])))
        target = match.group("url") or match.group("target")
        label = match.group("label") or target
        if target.partition(":")[0].lower() in URL_SCHEMES:
            out.append(f'<a href="{html.escape(target)}">{_emphasis(html.escape(label))}</a>')
        else:  # not a link we allow: shown as typed
            out.append(_emphasis(html.escape(match.group(0))))
        at = match.end()
    out.append(_emphasis(html.escape(text[at:])))
    return "".join(out)


def _inline(text: str) -> str:
    parts = _CODE_SPAN.split(text)
    return "".join(f"<code>{html.escape(part[1:-1])}</code>" if index % 2 else _links(part)
                   for index, part in enumerate(parts))


def _blocks(text: str) -> list[str]:
    blocks, paragraph, items, list_tag = [], [], [], None
    lines = text.split("\n")

    def flush():
        nonlocal paragraph, items, list_tag
        if paragraph:
            blocks.append("<p>" + "<br>".join(_inline(line) for line in paragraph) + "</p>")
        if items:
            blocks.append(f"<{list_tag}>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + f"</{list_tag}>")
        paragraph, items, list_tag = [], [], None

    at = 0
    while at < len(lines):
        line = lines[at]
        if _FENCE.match(line):
            flush()
            end = next((i for i in range(at + 1, len(lines)) if _FENCE.match(lines[i])), len(lines))
            blocks.append("<pre><code>" + html.escape("\n".join(lines[at + 1:end])) + "</code></pre>")
            at = end + 1
            continue
        bullet, numbered = _BULLET.match(line), _NUMBERED.match(line)
        if bullet or numbered:
            tag = "ul" if bullet else "ol"
            if paragraph or list_tag != tag:
                flush()
            list_tag = tag
            items.append((bullet or numbered).group(1))
        elif not line.strip():
            flush()
        else:
            if items:
                flush()
            paragraph.append(line)
        at += 1
    flush()
    return blocks


def render_message(text: str) -> str:
    """The message as sanitised HTML."""
    return sanitise("".join(_blocks(text.replace("\r\n", "\n"))), MESSAGE_TAGS, MESSAGE_ATTRIBUTES, new_tab=True)


def formatted_html(text: str) -> str | None:
    """The message's HTML when it has any formatting or link; None when plain text says it all."""
    if not _MAYBE_FORMATTED.search(text):
        return None  # most chat lines: no sanitiser run on the hot path
    rendered = render_message(text)
    return rendered if _FORMATTING_TAG.search(rendered) else None
