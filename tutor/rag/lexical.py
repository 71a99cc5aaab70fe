"""Keyword search (BM25) over the course chunks, beside the embedding search.

Embeddings find passages by meaning but blur rare, exact words: "NF4", "175B", "Dolma", "alerts".
Questions built on such a word find its passage here; ``CourseIndex.search_hybrid`` merges both.
Also the inverse document frequencies that weight shared words when quotes are ranked.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

_WORD = re.compile(r"[a-z0-9]+(?:[.-][a-z0-9]+)*")
_STOP = frozenset(
    re.findall(
        r"\w+",
        "a an and are as at be by can do does for from how i if in is it its me my of on or so that the their "
        "then there these this to was we what when where which who why will with would you your ",
    )
)
K1, B = 1.5, 0.75


def terms(text: str) -> list[str]:
    """Lower-case words and numbers, stop words dropped, plurals folded ("adapters" -> "adapter")."""
    out = []
    for word in _WORD.findall(text.lower()):
        if word in _STOP:
            continue
        out.append(folded(word[:-1] if len(word) > 4 and word.endswith("s") and not word.endswith("ss") else word))
    return out


# British and American spellings of one word, folded to one form: the course writes British
# ("regularisation", "behaviour", "labelled", "catalogue") and many learners do not. Both sides of
# every match go through it, so a fold only has to be consistent, not a real word.
_SPELLINGS = (
    (re.compile(r"(\w{3,})is(ation|e|ed|ing|er)$"), r"\1iz\2"),
    (re.compile(r"(\w{2,})ys(e|ed|ing)$"), r"\1yz\2"),
    (re.compile(r"(\w{3,})our$"), r"\1or"),
    (re.compile(r"(\w{2,})ell(ed|ing)$"), r"\1el\2"),
    (re.compile(r"(\w{3,})ogue$"), r"\1og"),
)


def folded(word: str) -> str:
    """``word`` in the one spelling its British and American forms share ("regularisation" and
    "regularization" -> "regularization")."""
    for pattern, replacement in _SPELLINGS:
        word, n = pattern.subn(replacement, word)
        if n:
            break
    return word


def named_term(word: str) -> bool:
    """An acronym ("EWC", "MMLU") or letters with digits ("NF4", "Q4_K_M"), as a learner writes a name."""
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and (any(c.isdigit() for c in word) or (len(word) > 2 and word.isupper()))


def named_terms(text: str) -> list[str]:
    """The names in ``text`` (see ``named_term``), in order, each once."""
    return list(dict.fromkeys(w for w in re.findall(r"\w[\w.-]*\w", text) if named_term(w)))


class Bm25:
    def __init__(self, documents: Iterable[tuple[str, str]]) -> None:
        """``documents``: (id, text) pairs."""
        self.ids: list[str] = []
        self.counts: list[Counter[str]] = []
        for doc_id, text in documents:
            self.ids.append(doc_id)
            self.counts.append(Counter(terms(text)))
        self.lengths = [sum(c.values()) for c in self.counts]
        self.average = sum(self.lengths) / len(self.lengths) if self.lengths else 0.0
        frequency: Counter[str] = Counter()
        for counts in self.counts:
            frequency.update(counts.keys())
        n = len(self.counts)
        self.idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}

    def scores(self, query: str) -> list[tuple[str, float]]:
        wanted = set(terms(query))
        out = []
        for doc_id, counts, length in zip(self.ids, self.counts, self.lengths, strict=True):
            score = 0.0
            for term in wanted & counts.keys():
                tf = counts[term]
                score += self.idf[term] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / (self.average or 1)))
            if score > 0:
                out.append((doc_id, score))
        return sorted(out, key=lambda pair: -pair[1])

    def weight(self, term: str) -> float:
        """How telling a word is: rare in the course weighs more; unknown words weigh most."""
        return self.idf.get(term, max(self.idf.values(), default=1.0))
