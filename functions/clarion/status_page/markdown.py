"""Markdown a person wrote (the post-incident report), rendered for the status page and feeds.

markdown-it-py in CommonMark mode with raw HTML off: ``<script>`` and every other tag come out as
text. Links may only go to http(s) and mailto addresses or stay on the page; images are off (the page
makes no third-party requests); every link gets ``rel="nofollow noopener noreferrer"``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

_SAFE_SCHEMES = ("http:", "https:", "mailto:")


def _safe_link(url: str) -> bool:
    plain = "".join(url.split()).lower()
    if ":" not in plain.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]:
        return True  # relative, or an anchor on the page
    return plain.startswith(_SAFE_SCHEMES)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")
    md.validateLink = _safe_link  # type: ignore[method-assign]

    def link_open(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        tokens[idx].attrSet("rel", "nofollow noopener noreferrer")
        return str(self.renderToken(tokens, idx, options, env))

    md.add_render_rule("link_open", link_open)
    # A report's headings sit below the page's own (h1 page, h2 status, h3 "Post-incident report").
    md.add_render_rule("heading_open", _shift_heading)
    md.add_render_rule("heading_close", _shift_heading)
    return md


def _shift_heading(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    level = max(4, min(6, int(token.tag[1]) + int(env.get("shift", 3))))
    token.tag = f"h{level}"
    return str(self.renderToken(tokens, idx, options, env))


def render_markdown(text: str) -> Markup:
    """Safe HTML for ``text``: escaped wherever it is not Markdown structure."""
    md = _parser()
    tokens = md.parse(text)
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    env = {"shift": 4 - min(levels, default=1)}  # the report's top headings become h4
    return Markup(md.renderer.render(tokens, md.options, env))  # noqa: S704 - markdown-it escapes all text; raw HTML is off


_LINK_TARGET = re.compile(r"\]\(\s*<?([^)\s>]*)|<([a-zA-Z][a-zA-Z0-9+.-]{1,31}:[^>\s]*)>")


def check_markdown(text: str) -> list[str]:
    """What a report's author should fix before it is sent: links the page would show as plain text."""
    problems: list[str] = []
    for match in _LINK_TARGET.finditer(text):
        target = match.group(1) or match.group(2) or ""
        if target and not _safe_link(target):
            problems.append(f"the link {target[:80]!r} will not be shown; links must use https, http or mailto")
    return problems
