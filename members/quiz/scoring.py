"""Scoring of 在线测评: one question at a time, by the rule the attempt froze when it started.

* Single choice and true/false: the question's points when the one correct choice is chosen, else 0.
* Multiple choice, under every rule: the exact set of correct choices scores the full points; no choice,
  or any wrong choice among those chosen, scores 0 (错选不得分). A non-empty subset of the correct
  choices without any wrong one (少选) scores
    - ``none``: 0;
    - ``half``: half the points (少选得一半分);
    - ``proportional``: points × (correct choices chosen ÷ correct choices in all).
  Scores are rounded half up to two decimals.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .models import Kind, PartialCredit

CENT = Decimal("0.01")


def correct_keys(question: dict) -> set[str]:
    return {c["key"] for c in question["choices"] if c["correct"]}


def score_question(question: dict, chosen: list[str] | set[str], rule: str) -> Decimal:
    """The score of ``chosen`` (choice keys) for a frozen question (``Question.frozen()``)."""
    points = Decimal(question["points"])
    chosen, right = set(chosen), correct_keys(question)
    if not chosen or not chosen <= right:
        return Decimal(0).quantize(CENT)
    if chosen == right:
        return points.quantize(CENT)
    if question["kind"] != Kind.MULTIPLE:  # cannot happen: one right choice, a non-empty strict subset
        return Decimal(0).quantize(CENT)
    if rule == PartialCredit.HALF:
        return (points / 2).quantize(CENT, rounding=ROUND_HALF_UP)
    if rule == PartialCredit.PROPORTIONAL:
        return (points * len(chosen) / len(right)).quantize(CENT, rounding=ROUND_HALF_UP)
    return Decimal(0).quantize(CENT)


def score(questions: list[dict], answers: dict[str, list[str]], rule: str) -> tuple[list[dict], Decimal, Decimal]:
    """Per-question results (index, score, correct = full marks) and the total and maximum scores.
    ``answers`` maps a question's 1-based index (as a string) to the chosen keys."""
    results, total, maximum = [], Decimal(0), Decimal(0)
    for index, question in enumerate(questions, start=1):
        got = score_question(question, answers.get(str(index), []), rule)
        points = Decimal(question["points"])
        results.append({"index": index, "score": str(got), "correct": got == points})
        total += got
        maximum += points
    return results, total.quantize(CENT), maximum.quantize(CENT)
