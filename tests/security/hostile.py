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
]

EVENT_ATTRIBUTE_PREFIX = "on"
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster"}
FORBIDDEN_TAGS = {"iframe", "object", "embed", "base", "frame", "frameset", "applet", "meta"}


class _Finder(HTMLParser):
    def __init__(self, allowed_script_sources: tuple[str, ...]) -> None:
        super().__init__(convert_charrefs=True)
        self.allowed = allowed_script_sources
        self.problems: list[str] = []
        self.in_head = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "head":
            self.in_head = True
        if tag == "script":
            src = attributes.get("src") or ""
            if not src.startswith(self.allowed):
                self.problems.append(f"script tag {attrs}")
        if tag in FORBIDDEN_TAGS and not (tag == "meta" and self.in_head):
            self.problems.append(f"<{tag}> {attrs}")
        for name, value in attrs:
            if name.startswith(EVENT_ATTRIBUTE_PREFIX):
                self.problems.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES and value:
                scheme = "".join(value.split()).lower()
                if scheme.startswith(("javascript:", "vbscript:", "data:text/html")):
                    self.problems.append(f"<{tag} {name}={value!r}>")
            if name == "style" and value and ("expression(" in value or "javascript:" in value):
                self.problems.append(f"<{tag} style={value!r}>")

    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False


def executable_content(html: str, allowed_script_sources: tuple[str, ...] = ("/static/",)) -> list[str]:
    """Everything in the page that a browser could run or that navigates away by itself."""
    finder = _Finder(allowed_script_sources)
    finder.feed(html)
    finder.close()
    return finder.problems
