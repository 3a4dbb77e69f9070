"""One analyzer for Arabic and English in the same text.

The text is normalised *before* it is split into words: Arabic diacritics are not ``\\w``, so a
``\\w+`` tokenizer would cut a vowelled word into pieces. Normalising keeps a map back to the
original characters, so highlighted snippets still point at the text the customer wrote.

Each word then goes through its script's rules: Arabic loses its attached prefixes (carefully, see
``arabic_variants``) and is stemmed with Snowball Arabic; Latin words are stemmed with Snowball
English. Stop words of both languages are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import Stemmer
from whoosh.analysis import Token, Tokenizer

# Harakat, tanwin, shadda, sukun, dagger alef and Quranic annotation marks; tatweel (ـ).
_TASHKEEL = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_LETTER_MAP = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ة": "ه",
        "ى": "ي",
        # Arabic-Indic and Persian digits, so "٢٤" finds "24".
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
    }
)
_WORD = re.compile(r"\w+")


def _stop_words(file_name: str) -> frozenset[str]:
    """One word per line in ``stopwords/``; lines starting with # explain the list."""
    text = (Path(__file__).parent / "stopwords" / file_name).read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


_ARABIC_LETTER = re.compile("[\u0621-\u064a]")

ARABIC_STOP_WORDS = _stop_words("ar.txt")
ENGLISH_STOP_WORDS = _stop_words("en.txt")

# Attached prefixes. The definite article (with a conjunction or preposition before it) is
# unambiguous and always removed. A lone و ف ب ك ل is ambiguous — it is the first letter of
# many words (بطاقه, فاتوره, وقت, كود, لون) — so such a word is indexed both as written and
# without the letter; the wrong reading is a rare word that costs little.
_ARTICLE = re.compile("^(?:[وف]?[بك]?ال|[وف]?لل)(?=..)")
_PROCLITIC = re.compile("^(?:[وف][بكل]?|[بكل])(?=...)")


@lru_cache(maxsize=1)
def _stemmers() -> tuple[Stemmer.Stemmer, Stemmer.Stemmer]:
    return Stemmer.Stemmer("arabic"), Stemmer.Stemmer("english")


def normalise(text: str) -> tuple[str, Sequence[int]]:
    """Lower-case, drop tashkeel and tatweel, unify alef / ta marbuta / alef maqsura and digits.

    Returns the normalised text and, for each of its characters, the index in ``text`` it came from.
    """
    if _one_for_one(text):  # most text: no tashkeel, so each character stays where it was
        return text.translate(_NORMAL_TABLE), range(len(text))
    chars: list[str] = []
    origins: list[int] = []
    for index, char in enumerate(text):
        out = _NORMAL_CHARS.get(char)
        if out is None:
            out = _normal_char(char)
        if len(out) == 1:
            chars.append(out)
            origins.append(index)
        else:  # dropped (tashkeel), or a letter whose lower case is two characters
            for piece in out:
                chars.append(piece)
                origins.append(index)
    return "".join(chars), origins


# Each character's normal form, worked out once (highlighting a search hit normalises whole articles),
# and the same by code point for ``str.translate``.
_NORMAL_CHARS: dict[str, str] = {}
_NORMAL_TABLE: dict[int, str] = {}
_NORMAL_CHARS_KEPT = 20_000


def _normal_char(char: str) -> str:
    out = "" if _TASHKEEL.match(char) else char.translate(_LETTER_MAP).lower()
    if len(_NORMAL_CHARS) < _NORMAL_CHARS_KEPT:
        _NORMAL_CHARS[char] = out
        _NORMAL_TABLE[ord(char)] = out
    return out


def _one_for_one(text: str) -> bool:
    """Whether each character of ``text`` has a normal form of exactly one character (known to
    ``_NORMAL_TABLE``)."""
    for char in set(text):
        out = _NORMAL_CHARS.get(char)
        if out is None:
            out = _normal_char(char)
            if char not in _NORMAL_CHARS:  # the table is full
                return False
        if len(out) != 1:
            return False
    return True


def normalise_text(text: str) -> str:
    """``normalise`` without the origins, in one ``str.translate`` (indexing a million tickets
    normalises every message: the character loop was half the time of writing a document)."""
    for char in set(text):
        if char not in _NORMAL_CHARS:
            _normal_char(char)
            if char not in _NORMAL_CHARS:  # the table is full: the slow way for this text
                return normalise(text)[0]
    return text.translate(_NORMAL_TABLE)


def is_arabic(word: str) -> bool:
    return bool(_ARABIC_LETTER.match(word))


# Arabic written in Latin letters ("el OTP ma ywsl 3la jawali"): a digit standing for a letter
# English lacks (2 ء, 3 ع, 5 خ, 6 ط, 7 ح, 8 ق, 9 ص) before letters or between them ("3la", "7ag",
# "a8ayrah"; not "ps5", "a10234" or "2nd"), or one of the commonest Arabizi words (its list).
_ARABIZI_DIGIT = re.compile(r"^[a-z]*[2356789][a-z]{2,}$|^[a-z]+[2356789][a-z]+$")
_ORDINAL = re.compile(r"^\d(?:st|nd|rd|th)$")
ARABIZI_WORDS = _stop_words("arabizi.txt")


def is_arabizi(word: str) -> bool:
    """Whether a normalised Latin word is Arabic written in Latin letters (see ``_ARABIZI_DIGIT``)."""
    return word in ARABIZI_WORDS or bool(_ARABIZI_DIGIT.match(word) and not _ORDINAL.match(word))


def _restore_prefix(word: str, stem: str) -> str:
    if stem and not word.startswith(stem):
        at = word.find(stem)
        if 0 < at <= 2:
            return word[:at] + stem
    return stem


def _stem_arabic(word: str) -> str:
    """Snowball Arabic, used for suffixes only, and made consistent.

    On its own it also drops a leading ب ك ل ف (بطاقه → طاق, yet البطاقات → بطاق), which we decide
    ourselves, so that part is undone. And it strips noun suffixes differently with and without
    the article (طلبات → طلبا, الطلبات → طلب; طلبك → طلب, الطلبك → طلبك), so both readings are
    tried and the shorter stem wins, twice, to peel stacked suffixes (طلباتي → طلبات → طلب).
    """
    stemmer = _stemmers()[0]
    current = word
    for _round in range(2):
        plain = _restore_prefix(current, stemmer.stemWord(current))
        with_article = stemmer.stemWord("ال" + current)
        if with_article.startswith("ال"):
            with_article = with_article[2:]
        candidates = [c for c in (plain, with_article) if len(c) >= 3] or [current]
        best = min(candidates, key=len)
        if best == current:
            break
        current = best
    return current


def strip_article(word: str) -> str:
    return _ARTICLE.sub("", word, count=1)


def spelling_edits(word: str) -> int:
    """How many edits a misspelling of ``word`` may be from the indexed word it is corrected to:
    one, two from six letters. An Arabic word is counted without its article: two edits made the
    greeting السلام the الاستلام (receipt) of cash on delivery."""
    letters = strip_article(word) if is_arabic(word) else word
    return 1 if len(letters) < 6 else 2


def arabic_variants(word: str) -> list[str]:
    """The index terms for one normalised Arabic word (usually one, two for an ambiguous prefix)."""
    if word in ARABIC_STOP_WORDS:
        return []
    bare = strip_article(word)
    forms = [bare]
    if bare == word:
        stripped = _PROCLITIC.sub("", word, count=1)
        if stripped != word:
            forms.append(stripped)
    terms: list[str] = []
    for form in forms:
        if form in ARABIC_STOP_WORDS:
            continue
        term = _stem_arabic(form)
        if term and term not in terms and (form is bare or len(term) >= 3):
            terms.append(term)
    return terms


def english_term(word: str) -> str | None:
    if word in ENGLISH_STOP_WORDS:
        return None
    return _stemmers()[1].stemWord(word)


def word_terms(word: str) -> list[str]:
    """Index terms for one normalised word of either script."""
    return list(_word_terms(word))


@lru_cache(maxsize=50_000)  # stemming is the analyzer's main cost, and text repeats its words
def _word_terms(word: str) -> tuple[str, ...]:
    if is_arabic(word):
        return tuple(arabic_variants(word))
    if word.isdigit():
        return (word,)
    term = english_term(word)
    return (term,) if term else ()


def words(text: str) -> list[str]:
    """The normalised words of ``text`` (before stemming), in order."""
    return _WORD.findall(normalise_text(text))


class BilingualTokenizer(Tokenizer):
    """Normalise, split into words, strip prefixes, stem — a whole Whoosh analyzer in one step,
    because the normalisation has to happen before splitting."""

    def __init__(self, stem: bool = True) -> None:
        self.stem = stem

    def __eq__(self, other) -> bool:
        return type(other) is type(self) and other.stem == self.stem

    def _terms(self, word: str) -> list[str]:
        if self.stem:
            return word_terms(word)
        stop = ARABIC_STOP_WORDS if is_arabic(word) else ENGLISH_STOP_WORDS
        return [] if word in stop else [word]

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        # Only highlighting (``chars``) needs each character's origin.
        text, origins = normalise(value) if chars else (normalise_text(value), [])
        if not tokenize:
            token.text = token.original = text
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        pos = start_pos
        for match in _WORD.finditer(text):
            terms = self._terms(match.group(0))
            if not terms:
                continue
            for term in terms:
                token.text = term
                token.boost = 1.0
                token.stopped = False
                if keeporiginal:
                    token.original = match.group(0)
                if positions:
                    token.pos = pos
                if chars:
                    token.startchar = start_char + origins[match.start()]
                    # Up to the next kept character, so trailing diacritics stay in the highlight.
                    end = origins[match.end()] if match.end() < len(text) else len(value)
                    token.endchar = start_char + end
                yield token
            pos += 1


def bilingual_analyzer() -> BilingualTokenizer:
    return BilingualTokenizer()


def spelling_analyzer() -> BilingualTokenizer:
    """Whole normalised words, unstemmed: the vocabulary that "did you mean" suggests from."""
    return BilingualTokenizer(stem=False)
