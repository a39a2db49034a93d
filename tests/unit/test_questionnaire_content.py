"""Question types, their validation, and conditional questions."""

from __future__ import annotations

import pytest

from portal.questionnaires import content as qc


def _question(kind: str, **values) -> qc.Question:  # type: ignore[no-untyped-def]
    return qc.Question.of({"key": "k", "type": kind, "label": "L", **values}, "s")


@pytest.mark.parametrize(("kind", "typed", "stored"), [
    ("short_text", "  Bakkerij  ", "Bakkerij"),
    ("long_text", "regel 1\nregel 2", "regel 1\nregel 2"),
    ("yes_no", "yes", "yes"),
    ("number", "3,5", "3.5"),
    ("number", "1.234,5", "1234.5"),
    ("number", "12", "12"),
    ("amount", "1.234,56", "1234.56"),
    ("amount", "€ 1.234,56", "1234.56"),
    ("amount", "1,234.56", "1234.56"),
    ("date", "31-12-2025", "2025-12-31"),
    ("date", "2025-12-31", "2025-12-31"),
    ("short_text", "", None),
])
def test_typed_answers_are_stored_as_values(kind, typed, stored):
    assert qc.parse(_question(kind), typed) == stored


def test_choices_accept_only_the_options():
    single = _question("single_choice", options=["Zakelijk", "Privé"])
    assert qc.parse(single, "Privé") == "Privé"
    multiple = _question("multiple_choice", options=["Auto", "Fiets", "Bus"])
    assert qc.parse(multiple, ["Auto", "Bus"]) == ["Auto", "Bus"]
    with pytest.raises(qc.AnswerError):
        qc.parse(single, "Iets anders")
    with pytest.raises(qc.AnswerError):
        qc.parse(multiple, ["Auto", "Boot"])


@pytest.mark.parametrize(("kind", "typed"), [
    ("number", "twaalf"), ("amount", "1.23.4"), ("amount", "veel"), ("date", "31-02-2025"),
    ("date", "morgen"), ("yes_no", "misschien"), ("short_text", "x" * 501),
])
def test_wrong_answers_say_what_is_expected(kind, typed):
    with pytest.raises(qc.AnswerError) as refusal:
        qc.parse(_question(kind), typed)
    assert str(refusal.value)


CONTENT = {"sections": [{"key": "auto", "title": "Auto", "questions": [
    {"key": "bought", "type": "yes_no", "label": "Did you buy a car?"},
    {"key": "invoice", "type": "files", "label": "Upload the purchase invoice",
     "show_if": {"question": "bought", "equals": "yes"}},
    {"key": "price", "type": "amount", "label": "Price",
     "show_if": {"question": "invoice", "equals": "x"}},
    {"key": "use", "type": "multiple_choice", "label": "Use", "options": ["zakelijk", "privé"]},
    {"key": "km", "type": "number", "label": "Private km",
     "show_if": {"question": "use", "equals": "privé"}},
]}]}


def test_a_conditional_question_shows_only_for_the_given_answer():
    assert qc.visible(CONTENT, {}) == {"bought", "use"}
    assert "invoice" in qc.visible(CONTENT, {"bought": "yes"})
    assert "invoice" not in qc.visible(CONTENT, {"bought": "no"})
    assert "km" in qc.visible(CONTENT, {"use": ["zakelijk", "privé"]})
    assert "km" not in qc.visible(CONTENT, {"use": ["zakelijk"]})


def test_a_question_under_a_hidden_question_stays_hidden():
    assert "price" not in qc.visible(CONTENT, {"bought": "no", "invoice": "x"})
