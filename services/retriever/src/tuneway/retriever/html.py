"""HTML to markdown-ish text: headings become '#' lines (for heading-aware chunks), chrome is dropped."""

from __future__ import annotations

from bs4 import BeautifulSoup, CData, NavigableString, PageElement, Tag

# Elements that never hold document content.
_DROP = frozenset(("script", "style", "noscript", "template", "svg", "iframe", "head", "nav"))
_BLOCKS = frozenset(
    ("p", "div", "section", "article", "li", "tr", "br", "table", "ul", "ol", "pre", "blockquote")
)
_HEADINGS = {f"h{level}": level for level in range(1, 7)}


def html_to_markdown(data: bytes) -> tuple[str, str]:
    """The page's title and its text, with h1-h6 as markdown headings and blocks on their own lines."""
    soup = BeautifulSoup(data, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    lines = [" ".join(line.split()) for line in "".join(_pieces(soup)).splitlines()]
    # Collapse runs of blank lines but keep paragraph breaks, which chunking prefers to cut at.
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return title, text.strip()


def _pieces(soup: BeautifulSoup) -> list[str]:
    """The page's text in document order, in one pass without changing the tree: inserting a newline
    next to an element costs bs4 a walk of the element's subtree, so deeply nested blocks took time
    quadratic in their depth (20,000 nested <div>s, a 220 KB upload, held a thread for 48 s)."""
    pieces: list[str] = []
    # What is left to do, last first: elements to visit, text to emit after an element, and the end
    # of a heading (its level and where its text starts in `pieces`).
    stack: list[PageElement | str | tuple[int, int]] = [soup]
    in_heading = False
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            level, start = item
            text = " ".join("".join(pieces[start:]).split())
            del pieces[start:]
            pieces.append(f"\n\n{'#' * level} {text}\n\n" if text else "")
            in_heading = False
        elif isinstance(item, NavigableString):
            # Comments, doctypes and processing instructions are not text (as in bs4's get_text).
            # In a heading, each string is a word apart from the next (as get_text(" ", strip=True)).
            if type(item) in (NavigableString, CData):
                pieces.append(f" {item.strip()}" if in_heading else str(item))
        elif isinstance(item, str):
            pieces.append(item)
        elif isinstance(item, Tag) and item.name not in _DROP:
            if item.name in _HEADINGS and not in_heading:
                # One line of text; a heading inside it is part of that text.
                stack.append((_HEADINGS[item.name], len(pieces)))
                in_heading = True
            elif item.name in _BLOCKS and not in_heading:
                pieces.append("\n")
                stack.append("\n")
                if item.name == "li":
                    pieces.append("- ")
            stack.extend(reversed(item.contents))
    return pieces
