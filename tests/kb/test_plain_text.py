"""An article's text for the index and the snippets: words without markup, punctuation in place."""

from helpdesk.kb.rendering import plain_text


def test_inline_markup_leaves_no_space_before_punctuation():
    text = plain_text(
        "Open **My orders**, choose the *order* and press `Track`. See [the page](https://x.test)."
    )
    assert text == "Open My orders, choose the order and press Track. See the page."


def test_blocks_stay_separate_words():
    text = plain_text(
        "# Refunds\n\nFive days.\n\n- card\n- wallet\n\nLine one<br>line two\n\n"
        "| a | b |\n|---|---|\n| c | d |"
    )
    assert text.split() == [
        "Refunds",
        "Five",
        "days.",
        "card",
        "wallet",
        "Line",
        "one",
        "line",
        "two",
        *"abcd",
    ]


def test_arabic_markup():
    assert plain_text("افتح **طلباتي**، ثم اضغط *تتبع الشحنة*.") == "افتح طلباتي، ثم اضغط تتبع الشحنة."
