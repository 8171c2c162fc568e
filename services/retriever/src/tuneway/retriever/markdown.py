"""Markdown split into sections by its headings (parsed, so '#' inside code blocks is not a heading)."""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt

_PARSER = MarkdownIt("commonmark")


@dataclass(frozen=True)
class Section:
    """Body text under one heading path ("Leave > Vacation"); the path is empty before any heading."""

    heading: str
    text: str


def markdown_sections(text: str) -> tuple[list[Section], str]:
    """The sections of a markdown text and its first top-level heading (the natural title)."""
    tokens = _PARSER.parse(text)
    lines = text.splitlines(keepends=True)
    headings: list[tuple[int, int, int, str]] = []  # first line, line after, level, text
    for position, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            inline = tokens[position + 1].content.strip()
            headings.append((token.map[0], token.map[1], int(token.tag[1]), inline))
    sections: list[Section] = []
    if not headings:
        return [Section("", text)], ""
    preamble = "".join(lines[: headings[0][0]])
    if preamble.strip():
        sections.append(Section("", preamble))
    path: list[tuple[int, str]] = []
    for number, (_, body_start, level, title) in enumerate(headings):
        while path and path[-1][0] >= level:
            path.pop()
        path.append((level, title))
        body_end = headings[number + 1][0] if number + 1 < len(headings) else len(lines)
        body = "".join(lines[body_start:body_end])
        heading = " > ".join(t for _, t in path if t)
        if body.strip():
            sections.append(Section(heading, body))
    first = next((t for _, _, level, t in headings if level == 1), headings[0][3])
    return sections, first
