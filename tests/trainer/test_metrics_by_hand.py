"""The lab's and the evaluation designer's metrics against values worked out by hand.

Each expected number below is computed in the comment next to it, not by the code under test, so
a metric that scores wrongly (returns 0, swaps precision and recall, ignores a class) fails here.
"""

from __future__ import annotations

import pytest

from trainer.evaluate import parse_label, score
from tutor.advisors.metrics import score as metrics_score
from tutor.advisors.metrics import token_f1


def test_macro_f1_differs_from_accuracy_on_an_imbalanced_set() -> None:
    gold = ["positive"] * 4 + ["negative", "neutral"]
    predictions = ["positive"] * 6  # a model that always says "positive"
    result = score("sentiment", predictions, gold)
    # accuracy: 4 right of 6.
    assert result.value == pytest.approx(4 / 6)
    assert result.details["accuracy"] == pytest.approx(4 / 6)
    # positive: tp 4, fp 2, fn 0 -> F1 = 2*4 / (2*4 + 2 + 0) = 0.8; negative and neutral: tp 0 -> 0.
    # macro-F1 = (0.8 + 0 + 0) / 3.
    assert result.details["macro_f1"] == pytest.approx(0.8 / 3)
    assert result.details["unparsed"] == 0.0
    assert result.metric == "accuracy" and result.examples == 6


@pytest.mark.parametrize(
    ("answer", "label"),
    [
        ("Positive.", "positive"),  # case and punctuation
        ("It is negative, not positive", "negative"),  # two labels: the first one counts
        ("nonpositive", ""),  # a label inside a word is not a label
        ("NEUTRAL", "neutral"),
        ("The sentiment is: neutral", "neutral"),
        ("I cannot tell", ""),
    ],
)
def test_label_parsing_of_awkward_answers(answer: str, label: str) -> None:
    assert parse_label(answer) == label


def test_classification_scores_of_awkward_answers() -> None:
    answers = ["Positive.", "It is negative, not positive", "nonpositive", "NEUTRAL", "the answer: neutral"]
    gold = ["positive", "negative", "negative", "neutral", "positive"]
    # parsed: positive, negative, "", neutral, neutral -> 3 of 5 right.
    result = score("sentiment", answers, gold)
    assert result.value == pytest.approx(3 / 5)
    # positive: tp 1, fp 0, fn 1 -> 2/3; negative: tp 1, fp 0, fn 1 -> 2/3; neutral: tp 1, fp 1, fn 0 -> 2/3.
    assert result.details["macro_f1"] == pytest.approx(2 / 3)
    assert result.details["unparsed"] == pytest.approx(1 / 5)


def test_rouge_l_by_hand() -> None:
    predictions = ["the cat sat on the mat", "dogs barked"]
    references = ["the cat is on the mat", "a dog barks loudly"]
    # Pair 1: LCS "the cat on the mat" = 5 of 6 tokens each side: P = R = F = 5/6.
    # Pair 2 (with stemming: dogs -> dog, barked/barks -> bark): LCS "dog bark" = 2; P = 2/2, R = 2/4,
    # F = 2 * 1 * 0.5 / 1.5 = 2/3.  Mean: (5/6 + 2/3) / 2 = 0.75.
    result = score("summarization", predictions, references)
    assert result.metric == "rougeL"
    assert result.value == pytest.approx(0.75)
    assert result.details["rougeL"] == pytest.approx(0.75)


def test_token_f1_and_exact_match_by_hand() -> None:
    # Articles and punctuation go: [cat, sat, on, mat] vs [cat, is, on, mat]: 3 common, P = R = 3/4.
    assert token_f1("The cat sat on a mat.", "the cat is on the mat") == pytest.approx(0.75)
    # Unequal lengths: [cat, sat] vs [cat, is, on, mat]: 1 common, P = 1/2, R = 1/4, F1 = 2PR/(P+R) = 1/3.
    assert token_f1("cat sat", "the cat is on the mat") == pytest.approx(1 / 3)
    assert token_f1("", "") == 1.0 and token_f1("cat", "") == 0.0
    report = metrics_score([("The cat sat on a mat.", "the cat is on the mat"), ("Paris", "paris")])
    assert report.pairs == 2
    assert report.exact_match == 0.5  # only "Paris" = "paris" after normalisation
    assert report.f1 == pytest.approx((0.75 + 1.0) / 2)
    # ROUGE-L keeps articles: [the cat sat on a mat] vs [the cat is on the mat], LCS "the cat on mat" = 4,
    # P = R = 4/6; with "Paris" = 1.0 the mean is (2/3 + 1) / 2.
    assert report.rouge_l == pytest.approx((2 / 3 + 1.0) / 2, abs=1e-4)
