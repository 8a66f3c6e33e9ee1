"""Every document gets a language: declared first, else guessed, else None."""

from __future__ import annotations

import pytest

from mentions import lang
from mentions.lang import declared_language, identify, identify_by_stopwords, with_language
from mentions.models import Document

SENTENCES = {
    "de": "Die neuen Laufschuhe von Acme sind wirklich bequem und auch sehr leicht.",
    "en": "The new running shoes from Acme are really comfortable and they are light.",
    "fr": "Les nouvelles chaussures de Acme sont vraiment confortables et très légères.",
    "es": "Las nuevas zapatillas de Acme son muy cómodas y pero también son ligeras.",
    "it": "Le nuove scarpe di Acme sono molto comode e anche leggere, non come prima.",
    "nl": "De nieuwe schoenen van Acme zijn heel comfortabel en ook niet zwaar.",
    "pl": "Nowe buty Acme są bardzo wygodne i lekkie, ale nie są tanie.",
    "pt": "Os novos sapatos da Acme são muito confortáveis e não são pesados.",
}


@pytest.mark.parametrize(("expected", "text"), SENTENCES.items())
def test_identify(expected: str, text: str) -> None:
    assert identify(text) == expected


@pytest.mark.parametrize(("expected", "text"), SENTENCES.items())
def test_stopword_fallback(expected: str, text: str) -> None:
    assert identify_by_stopwords(text) == expected


def test_fallback_is_used_without_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lang, "_load", lambda: None)
    assert identify(SENTENCES["nl"]) == "nl"


@pytest.mark.parametrize("text", ["", "Acme", "Acme GmbH Runner X", "12345 67890 !!!"])
def test_too_little_text_is_unknown(text: str) -> None:
    assert identify(text) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("de-DE", "de"), ("en_US", "en"), ("FR", "fr"), ("", None), ("x-klingon", None), ("12", None)],
)
def test_declared_language(value: str, expected: str | None) -> None:
    assert declared_language(value) == expected


def test_declared_language_wins_over_the_text() -> None:
    document = Document("s", "feed", SENTENCES["en"], lang="de-AT")
    assert with_language(document).lang == "de"
    assert with_language(Document("s", "feed", SENTENCES["fr"])).lang == "fr"
