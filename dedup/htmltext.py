"""HTML to visible text, one block per line, and the guard against pages that would
stall the parser.

HTML keeps all visible text, page chrome included (navigation, footers, comment sections):
the cleanest-copy stage needs the chrome to score a copy, so nothing is cut as
boilerplate here. Block elements become line breaks, so paragraphs stay lines.
"""

from __future__ import annotations

import re

from .decode import LINE_SEPARATORS

__all__ = ["HTML_WORK_LIMIT", "HtmlTooComplex", "html_complexity", "html_to_text"]

# Subtrees that are never shown as text. <head> goes whole (title included): the title is
# metadata, and copies of one article often differ only there.
_DROP_TAGS = [
    "head", "script", "style", "noscript", "template", "svg", "iframe", "object", "embed",
    "canvas", "audio", "video",
]  # fmt: skip
# Elements a browser lays out as blocks (or table cells): each starts and ends a line.
_BLOCK_TAGS = (
    "address", "article", "aside", "blockquote", "caption", "center", "dd", "details", "dialog",
    "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
    "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "legend", "li", "listing", "main", "menu",
    "nav", "ol", "optgroup", "option", "p", "pre", "section", "summary", "table", "tbody", "td",
    "textarea", "tfoot", "th", "thead", "tr", "ul", "xmp",
)  # fmt: skip
_BLOCK_SELECTOR = ",".join(_BLOCK_TAGS)
# Line marks put into the tree as text: the HTML parser drops NUL from text, so a NUL in the
# extracted text can only be ours. A soft break ends a line if it has text (blocks); a hard
# break always does (<br>, newlines in <pre>), so <br><br> leaves a blank line.
_SOFT = "\x00s"
_HARD = "\x00h"
_MARK = re.compile("\x00([sh])")


class HtmlTooComplex(ValueError):
    """A page whose structure would cost the HTML parser time out of all proportion to its
    size (see ``html_complexity``); ``detail`` says what, in one line."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


#: Parser steps a page may cost beyond a linear share per tag, as ``html_complexity``
#: estimates them. Lexbor walks the stack of open elements for many start tags, a tag's
#: attributes for each new one and a <select>'s options for each new option, so crafted
#: pages cost it quadratic time (100,000 nested divs: 26 s). A step costs it 2-20 ns as
#: measured on crafted pages: this bounds the quadratic part to 0.1-1 s a page.
HTML_WORK_LIMIT = 50_000_000
#: Steps allowed per start tag on top: an ordinary page nests 10-30 deep.
_WORK_PER_TAG = 64
#: Pages with at most this many "<" and no long tag need no scan: each start tag adds at
#: most one step per tag before it for depth and one for options, tags^2 <= HTML_WORK_LIMIT.
_FEW_TAGS = 7000
#: Attributes below which a tag's quadratic cost is too small to count (64^2 steps).
_FEW_ATTRIBUTES = 64
#: How far down the stack an end tag looks for its element; past that it is taken as a
#: stray (the estimate only grows: it never misses depth, a page would need rare misnesting
#: to be over-counted).
_CLOSE_REACH = 64

# The tokens of a page as the HTML tokenizer reads them, in one pass: a comment; a raw-text
# element's start tag and its text (tags in a <script> are not tags); any other start or end
# tag with its attributes (a quote opens a value only after "="). Atomic groups and
# possessive repeats keep it linear on any input.
_ATTRS = r"""(?>[^>="']++|=[\t\n\f\r ]*+"[^"]*+"|=[\t\n\f\r ]*+'[^']*+'|[="'])*+"""
_RAW_TEXT = "script|style|textarea|title|xmp|iframe|noembed|noframes"
_HTML_TOKENS = re.compile(
    rf"<!--.*?(?:-->|\Z)"
    rf"|<((?i:{_RAW_TEXT}))(?=[\t\n\f\r />])({_ATTRS})>.*?(?=</(?i:{_RAW_TEXT})|\Z)"
    rf"|<(/?)([A-Za-z][^\t\n\f\r />]*+)({_ATTRS})",
    re.DOTALL,
)
# A start tag with 64 separated names or values: one that may hold 64 attributes.
_LONG_TAG = re.compile(
    r"""<[A-Za-z][^\t\n\f\r />]*+"""
    r"""(?>[\t\n\f\r /]++[^\t\n\f\r />="']*+|=[\t\n\f\r ]*+"[^"]*+"|=[\t\n\f\r ]*+'[^']*+'|[="']|[^\t\n\f\r />="']++)"""
    rf"{{{_FEW_ATTRIBUTES}}}"
)
_ATTR_VALUE = re.compile(r"""=[\t\n\f\r ]*(?:"[^"]*"|'[^']*'|[^\t\n\f\r >]*)""")
_ATTR_NAME = re.compile(r"[^\t\n\f\r /]+")
# Elements that never hold others (void), or that the next of their kind closes: they do
# not deepen the stack of open elements.
_FLAT_TAGS = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
    "wbr", "keygen", "frame", "basefont", "bgsound", "image", "menuitem", "p", "li", "dd", "dt", "option",
    "optgroup", "rb", "rp", "rt", "rtc", "tr", "td", "th", "tbody", "thead", "tfoot", "colgroup", "caption",
    "html", "head", "body",
})  # fmt: skip
# Elements an end tag does not close past ("has an element in scope" stops at them).
_SCOPE_TAGS = frozenset({
    "applet", "caption", "html", "table", "td", "th", "marquee", "object", "template", "mi", "mo", "mn", "ms",
    "mtext", "annotation-xml", "foreignobject", "desc",
})  # fmt: skip


def html_complexity(html: str) -> str | None:
    """Why parsing ``html`` would take far longer than its size says, or None.

    One linear pass over the tags (none for a page with few tags and no long tag)
    estimates the parser's steps: for each start tag, the depth of open elements; for a
    tag with many attributes, their number squared; for each option of a <select>, the
    options before it. Over ``HTML_WORK_LIMIT`` plus 64 steps a tag, the page is too
    complex: the answer names its worst feature. The depth is an estimate of the tree
    builder's (end tags close as far as the next scope boundary; the adoption agency's
    moves are not followed).

    Example:
        >>> html_complexity("<div>" * 100_000)
        'HTML too complex to parse in bounded time: elements nested 100,000 deep'
    """
    if html.count("<") <= _FEW_TAGS and _LONG_TAG.search(html) is None:
        return None
    stack: list[str] = []
    tags = depth_work = attr_work = option_work = 0
    deepest = most_attributes = options = most_options = 0
    for raw, raw_attrs, close, name, attrs in _HTML_TOKENS.findall(html):
        if raw:  # a raw-text element, its text skipped; its end tag comes next
            name, attrs = raw, raw_attrs
        elif not name:
            continue  # a comment
        name = name.lower()
        if close:
            if stack and stack[-1] == name:
                stack.pop()
            else:
                _close(stack, name)
            if name == "select":
                options = 0
            continue
        tags += 1
        depth_work += len(stack)
        if len(attrs) > 2 * _FEW_ATTRIBUTES:
            count = len(_ATTR_NAME.findall(_ATTR_VALUE.sub(" ", attrs)))
            if count > _FEW_ATTRIBUTES:
                attr_work += count * count
                most_attributes = max(most_attributes, count)
        if name == "option" or name == "optgroup":
            option_work += options
            options += 1
            most_options = max(most_options, options)
        elif name == "select":
            options = 0
        if name in _FLAT_TAGS or (attrs.endswith("/") and _self_closing(stack, name)):
            continue
        stack.append(name)
        if len(stack) > deepest:
            deepest = len(stack)
    if depth_work + attr_work + option_work <= HTML_WORK_LIMIT + _WORK_PER_TAG * tags:
        return None
    worst = max(
        (depth_work, f"elements nested {deepest:,} deep"),
        (attr_work, f"a tag with {most_attributes:,} attributes"),
        (option_work, f"a <select> with {most_options:,} options"),
    )
    return f"HTML too complex to parse in bounded time: {worst[1]}"


def _close(stack: list[str], name: str) -> None:
    """An end tag that is not the current element's: close down to its element, unless a
    scope boundary or ``_CLOSE_REACH`` comes first (then, as the parser does, ignore it)."""
    for i in range(len(stack) - 1, max(len(stack) - _CLOSE_REACH, 0) - 1, -1):
        if stack[i] == name:
            del stack[i:]
            return
        if stack[i] in _SCOPE_TAGS:
            return


def _self_closing(stack: list[str], name: str) -> bool:
    """Whether "/>" ends this element: only in SVG and MathML (in HTML, <div/> opens a div)."""
    near = stack[-_CLOSE_REACH:]  # an SVG's elements nest a few deep within it
    return name == "svg" or name == "math" or "svg" in near or "math" in near


def html_to_text(html: str) -> str:
    """The visible text of a page, one block per line.

    Lexbor parses (entities decoded, broken markup repaired as browsers do); hidden
    subtrees are dropped; block elements end lines, ``<br>`` and newlines in ``<pre>``
    force them; spaces collapse within a line and blank lines to one. About 2 ms for a
    50 KB page: the tree is marked up in C and read back as one string.

    Raises:
        HtmlTooComplex: the page's structure would stall the parser (``html_complexity``),
            checked first: a C parser cannot be interrupted, not even by Ctrl-C.

    Example:
        >>> html_to_text("<p>Fish &amp; chips</p><script>x()</script><p>two <b>words</b></p>")
        'Fish & chips\\ntwo words'
    """
    from selectolax.lexbor import LexborHTMLParser  # here, as charset_normalizer above

    why = html_complexity(html)
    if why is not None:
        raise HtmlTooComplex(why)
    tree = LexborHTMLParser(html)
    tree.strip_tags(_DROP_TAGS)
    root = tree.body or tree.root
    if root is None:
        return ""
    for node in tree.css(_BLOCK_SELECTOR):
        node.insert_before(_SOFT)
        node.insert_after(_SOFT)
    for node in tree.css("br"):
        node.insert_after(_HARD)
    # Innermost first, so an outer <pre> reads the marks its inner one left.
    for node in reversed(tree.css("pre, listing, xmp, textarea")):
        node.replace_with(node.text().replace("\n", _HARD))
    return _marked_to_lines(root.text())


def _marked_to_lines(marked: str) -> str:
    """Text with line marks -> lines: collapse spaces, at most one blank line in a row."""
    for separator in LINE_SEPARATORS:
        if separator in marked:
            marked = marked.replace(separator, _HARD)
    parts = _MARK.split(marked)
    lines: list[str] = []
    line = " ".join(parts[0].split())
    for i in range(1, len(parts), 2):
        if line or parts[i] == "h":
            lines.append(line)
        line = " ".join(parts[i + 1].split())
    lines.append(line)
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)
