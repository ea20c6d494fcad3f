"""The query rules of API.md "Search" as pure functions, shared by both engines.

A word is a run of letters or digits after accent folding and lower-casing; every
other character (including `" * : ( ) \\ & | !`) only separates words, so nothing a
caller types can reach an engine as an operator. Words are ANDed; a word of
TYPO_MIN_LENGTH or more tolerates one typo (Levenshtein distance 1: a swap of two
neighbours is two edits); the last word also matches as a prefix, or with one typo,
never both at once.
"""

import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MAX_QUERY_LENGTH = 200
TYPO_MIN_LENGTH = 5

_WORD = re.compile(r"[^\W_]+")
# Tokens of the original text (before folding) that highlights may wrap.
TOKEN = _WORD
# Letters NFKD does not decompose, folded the way PostgreSQL's unaccent and
# Elasticsearch's asciifolding both fold them.
_EXTRA_FOLDS = str.maketrans({"ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "þ": "th", "ı": "i"})


def fold(text: str) -> str:
    """Accent-folded, lower-cased text (Python's approximation of search_fold())."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_EXTRA_FOLDS)


def query_words(q: str) -> list[str]:
    """The query's words, in order."""
    return _WORD.findall(fold(q))


def tolerates_typo(word: str) -> bool:
    return len(word) >= TYPO_MIN_LENGTH


def levenshtein_at_most_one(a: str, b: str) -> bool:
    """True when a and b differ by at most one insertion, deletion or substitution."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la > lb:
        a, b, la, lb = b, a, lb, la
    i = 0
    while i < la and a[i] == b[i]:
        i += 1
    if la == lb:
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]


@dataclass(frozen=True)
class QueryWord:
    text: str
    last: bool

    def matches(self, word: str) -> bool:
        """Whether a document word (already folded) satisfies this query word."""
        if word == self.text:
            return True
        if self.last and word.startswith(self.text):
            return True
        return tolerates_typo(self.text) and levenshtein_at_most_one(self.text, word)


def plan(words: Sequence[str]) -> list[QueryWord]:
    return [QueryWord(w, i == len(words) - 1) for i, w in enumerate(words)]


def highlight(text: str | None, words: Sequence[QueryWord], folder: Callable[[list[str]], list[str]]) -> str | None:
    """`text` HTML-escaped with every matching word wrapped in <em>…</em>; None when
    nothing in it matches. `folder` folds a batch of tokens the way the engine does."""
    if not text or not words:
        return None
    spans = [(m.start(), m.end()) for m in TOKEN.finditer(text)]
    if not spans:
        return None
    folded = folder([text[s:e] for s, e in spans])
    out: list[str] = []
    cursor = 0
    hit = False
    for (start, end), token in zip(spans, folded, strict=True):
        if any(w.matches(part) for part in _WORD.findall(token) for w in words):
            out.append(html.escape(text[cursor:start]))
            out.append(f"<em>{html.escape(text[start:end])}</em>")
            cursor = end
            hit = True
    out.append(html.escape(text[cursor:]))
    return "".join(out) if hit else None
