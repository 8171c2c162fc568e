"""HTML to markdown-ish text: headings become '#' lines (for heading-aware chunks), chrome is dropped."""

from __future__ import annotations

from bs4 import BeautifulSoup

# Elements that never hold document content.
_DROP = ("script", "style", "noscript", "template", "svg", "iframe", "head", "nav")
_BLOCKS = ("p", "div", "section", "article", "li", "tr", "br", "table", "ul", "ol", "pre", "blockquote")


def html_to_markdown(data: bytes) -> tuple[str, str]:
    """The page's title and its text, with h1-h6 as markdown headings and blocks on their own lines."""
    soup = BeautifulSoup(data, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup.find_all(_DROP):
        tag.decompose()
    for level in range(1, 7):
        for tag in soup.find_all(f"h{level}"):
            text = " ".join(tag.get_text(" ", strip=True).split())
            tag.replace_with(f"\n\n{'#' * level} {text}\n\n" if text else "")
    for tag in soup.find_all("li"):
        tag.insert(0, "- ")
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    lines = [" ".join(line.split()) for line in soup.get_text().splitlines()]
    # Collapse runs of blank lines but keep paragraph breaks, which chunking prefers to cut at.
    text = "\n".join(lines)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return title, text.strip()
