"""A corpus of hostile text and a checker that a rendered page holds nothing executable."""

from __future__ import annotations

from html.parser import HTMLParser

HOSTILE = [
    "<script>alert('xss')</script>",
    '<img src=x onerror="alert(1)">',
    "<svg/onload=alert(1)>",
    '<svg><script xlink:href="data:,alert(1)"></script></svg>',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">mixed case</a>',
    '<iframe src="https://evil.example/"></iframe>',
    '<div style="background:url(javascript:alert(1))">css</div>',
    '<p style="width: expression(alert(1))">old IE</p>',
    '"><script>alert(1)</script>',
    "'><body onload=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
    '<object data="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg=="></object>',
    '<form action="https://evil.example/"><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    "\u202egnp.exe",  # right-to-left override
    "سلام\u200f<script>alert('rtl')</script>",
    "x" * 5000,
    "null\x00byte",
    "{{ 7*7 }} {% raw %}",  # template injection must stay text
    "[click](javascript:alert(1)) [data](data:text/html;base64,PHNjcmlwdD4=)",  # markdown links
    "![svg](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",  # markdown image
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    "<style>@import 'https://evil.example/x.css';</style><link rel=stylesheet href=//evil.example/>",
    '<base href="https://evil.example/"><a href="/agent">relative</a>',
    "<details open ontoggle=alert(1)>",
    "Refund \u2067\u202eevil\u202c\u2069 \u202bRLE\u202c \u2066LRI",  # embeddings and isolates
]

EVENT_ATTRIBUTE_PREFIX = "on"
VOID_TAGS = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}
FORBIDDEN_TAGS = {"iframe", "object", "embed", "base", "frame", "frameset", "applet", "meta", "link", "style"}
# Foreign content that can carry scripts of its own. Our pages use it only for the icons of the
# ``icon()`` helper: an ``<svg class="icon" aria-hidden="true">`` holding nothing but shapes.
FOREIGN_TAGS = {"svg", "math"}
ICON_SHAPES = {"path", "circle", "rect", "line", "polyline", "polygon", "ellipse", "g"}
SAFE_DATA_IMAGES = ("data:image/png", "data:image/jpeg", "data:image/gif", "data:image/webp")
# Embedding and override controls (LRE, RLE, PDF, LRO, RLO) and isolates (LRI, RLI, FSI, PDI).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Text in these elements cannot be isolated with <bdi>: it must hold no bidi controls at all.
UNISOLATABLE = {"title", "option"}
# Form controls keep what the user typed (editing must not lose characters) and lay it out apart.
ISOLATING = {"bdi", "textarea"}


class _Finder(HTMLParser):
    def __init__(self, allowed_script_sources: tuple[str, ...]) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed = allowed_script_sources
        self.problems: list[str] = []
        self.in_head = False
        self.open: list[tuple[str, bool]] = []  # (tag, isolates its text direction)
        self.icon_depth = 0  # inside one of our icons: only shapes may follow

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "head":
            self.in_head = True
        if tag == "script":
            src = attributes.get("src") or ""
            if not src.startswith(self.allowed):
                self.problems.append(f"script tag {attrs}")
        if tag in FORBIDDEN_TAGS and not (tag in ("meta", "link") and self.in_head):
            self.problems.append(f"<{tag}> {attrs}")
        is_icon = (
            tag == "svg"
            and (attributes.get("class") or "").split()[:1] == ["icon"]
            and attributes.get("aria-hidden") == "true"
        )
        if self.icon_depth and tag not in ICON_SHAPES:
            self.problems.append(f"<{tag}> inside an icon {attrs}")
        elif tag in FOREIGN_TAGS and not is_icon:
            self.problems.append(f"<{tag}> {attrs}")
        if is_icon or (self.icon_depth and tag not in VOID_TAGS):
            self.icon_depth += 1
        if tag not in VOID_TAGS:
            self.open.append((tag, tag in ISOLATING or "dir" in attributes))
        for name, value in attrs:
            if value and name != "value" and BIDI_CONTROLS.intersection(value):
                self.problems.append(f"bidi control in <{tag} {name}=…>")
            if name.startswith(EVENT_ATTRIBUTE_PREFIX):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and value:
                scheme = "".join(value.split()).lower()
                if scheme.startswith(("javascript:", "vbscript:")) or (
                    scheme.startswith("data:") and not (tag == "img" and scheme.startswith(SAFE_DATA_IMAGES))
                ):
                    self.problems.append(f"<{tag} {name}={value!r}>")
            if name == "style" and value and ("expression(" in value or "javascript:" in value):
                self.problems.append(f"<{tag} style={value!r}>")

    def handle_startendtag(self, tag, attrs):  # <path … />: opens and closes at once
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False
        if self.icon_depth:
            self.icon_depth -= 1
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth][0] == tag:
                del self.open[depth:]
                break

    def handle_data(self, data):
        if not BIDI_CONTROLS.intersection(data):
            return
        tags = [tag for tag, _ in self.open]
        if UNISOLATABLE.intersection(tags):
            self.problems.append(f"bidi control in <{tags[-1]}>: {data[:40]!r}")
        elif not any(isolated for tag, isolated in self.open if tag not in ("html", "body")):
            self.problems.append(f"bidi control outside <bdi>/dir: {data[:40]!r}")


def executable_content(html: str, allowed_script_sources: tuple[str, ...] = ("/static/",)) -> list[str]:
    """Everything in the page that a browser could run or that navigates away by itself."""
    finder = _Finder(allowed_script_sources)
    finder.feed(html)
    finder.close()
    return finder.problems
