"""The gettext catalogues: complete, consistent between languages, and in the article's own words."""

import ast
import re
import string
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from flows.catalogue import LOCALES_DIR
from flows.journey import FORMS
from flows.offer import SERVICES, Product
from flows.records import UserStatus

ROOT = Path(__file__).parent.parent
TEXT_CALLS = {"text", "t", "say", "refuse", "InvalidAnswer", "plural"}
ARTICLE_LABELS = (
    "CRÉER mon compte Administrateur", "Créer automatiquement mon compte utilisateur",
    "Créer un nouvel utilisateur", "Valider", "VALIDER ET ACTIVER", "Ciel Données Mobiles",
    "Télédéclaration de TVA + Bilan", "Télédéclaration DUCS, DADS-U, DUE et AED", "Télépaiements SEPA",
    "Activer plus tard", "Télécharger mon logiciel", "TÉLÉCHARGER mon logiciel", "Parler à un conseiller",
    "Le compte administrateur est à présent configuré.",
    "L'utilisation de Sage 50 en mode Données Mobiles requiert une connexion internet permanente.",
)


@cache
def messages(language: str) -> dict[str, str]:
    """Each key with its text; a plural message's forms joined by a line break."""
    return {key: "\n".join(forms) for key, forms in plural_forms(language).items()}


@cache
def plural_forms(language: str) -> dict[str, tuple[str, ...]]:
    with (LOCALES_DIR / f"{language}.po").open("rb") as file:
        catalog = read_po(file, locale=language)
    return {(m.id[0] if isinstance(m.id, tuple) else m.id): (m.string if isinstance(m.string, tuple) else (m.string,))
            for m in catalog if m.id}


@cache
def plural_count(language: str) -> int:
    with (LOCALES_DIR / f"{language}.po").open("rb") as file:
        return read_po(file, locale=language).num_plurals


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def literal_keys() -> set[str]:
    """Catalogue keys written whole in the code: first arguments of the text calls, and dotted names."""
    prefixes = {key.split(".")[0] for key in messages("fr") if "." in key}
    keys: set[str] = set()
    for path in [*ROOT.glob("flows/**/*.py"), *ROOT.glob("bot/*.py")]:
        tree = ast.parse(path.read_text())
        in_fstrings = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) in TEXT_CALLS:
                keys |= {value for arg in node.args[:1] for value in whole_strings(arg)}
            elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in in_fstrings
                  and node.value.split(".")[0] in prefixes and node.value.count(".") == 1 and " " not in node.value):
                keys.add(node.value)
    return keys


def whole_strings(node: ast.expr) -> list[str]:
    """A literal string, or both literal branches of `a if c else b`."""
    if isinstance(node, ast.IfExp):
        return whole_strings(node.body) + whole_strings(node.orelse)
    return [node.value] if isinstance(node, ast.Constant) and isinstance(node.value, str) else []


def dynamic_keys() -> set[str]:
    """Keys the code builds from data: steps, services, statuses, products, form questions."""
    return {
        *(f"step.{n}" for n in range(1, 5)),
        *(f"service.{service.key}" for service in SERVICES),
        *(f"status.{status.value}" for status in UserStatus),
        *(f"product.{product.value}" for product in Product),
        *(f"button.change_{field.key}" for form in FORMS for field in form.fields),
        *(form.prompt(field) for form in FORMS for field in form.fields),
        *(f"mail.{kind}.{part}" for kind in ("subscription", "chat_code", "invitation")
          for part in ("subject", "body", "button")),
        *(f"command.{name}" for name in ("start", "etat", "aide")),
    }


def test_every_english_message_exists_in_french() -> None:
    assert set(messages("en")) - set(messages("fr")) == set()


def test_placeholders_match_between_french_and_english() -> None:
    shared = set(messages("en")) & set(messages("fr"))
    assert {key for key in shared if placeholders(messages("fr")[key]) != placeholders(messages("en")[key])} == set()


def test_the_code_finds_literal_keys() -> None:
    """The scan itself works: it sees keys known to be used."""
    assert {"error.use_buttons", "welcome.back", "yes", "no", "progress"} <= literal_keys()


def test_every_key_the_code_uses_exists_in_french() -> None:
    used = {key for key in literal_keys() if not key.startswith("mail.") or key.count(".") == 2}
    assert (used | dynamic_keys()) - set(messages("fr")) == set()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_plural_message_has_every_form_its_language_needs(language: str) -> None:
    plurals = {key for key, forms in plural_forms("fr").items() if len(forms) > 1}
    assert plurals and {key for key in plurals if len(plural_forms(language)[key]) != plural_count(language)
                        or not all(plural_forms(language)[key])} == set()


def test_no_french_message_is_empty() -> None:
    assert [key for key, text in messages("fr").items() if not text.strip()] == []


@pytest.mark.parametrize("label", ARTICLE_LABELS)
def test_the_articles_words_appear_verbatim_in_french(label: str) -> None:
    assert any(label in text for text in messages("fr").values())


# Typography, checked mechanically. French: a narrow no-break space (U+202F) before ; : ? ! and inside
# « », as Babel writes thousands; English: none, and “ ” for quotes. Apostrophes are straight in both,
# as in the article's own labels ("Je n'ai pas reçu l'e-mail").
NNBSP = "\u202f"
HTML_KEYS = {"mail.html", "mail.button_html"}
PLACEHOLDER_OR_URL = re.compile(r"\{[^}]*\}|https?://\S+|/[a-z]+\b")


def prose(language: str) -> dict[str, str]:
    """Each message's text as read, without its placeholders, URLs and commands; HTML templates left out."""
    return {key: PLACEHOLDER_OR_URL.sub("X", text) for key, text in messages(language).items() if key not in HTML_KEYS}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_no_message_hides_a_plural_or_a_gender_behind_brackets(language: str) -> None:
    assert {key: text for key, text in prose(language).items() if re.search(r"\w\((s|e|es|x)\)", text)} == {}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_no_message_talks_of_touching_a_screen_the_terminal_does_not_have(language: str) -> None:
    assert {key for key, text in prose(language).items() if re.search(r"\b(touche[zr]?|tap)\b", text, re.I)} == set()


def test_french_double_punctuation_and_guillemets_have_a_narrow_no_break_space() -> None:
    wrong = {}
    for key, text in prose("fr").items():
        for match in re.finditer(r"(.)([;:?!»])", text):
            before, mark = match.groups()
            if before != NNBSP and (mark == "»" or match.end() == len(text) or text[match.end()] in " \n"):
                wrong.setdefault(key, []).append(match.group())
        wrong.update({key: ["«" + text[m.end():m.end() + 1]] for m in re.finditer("«", text) if text[m.end()] != NNBSP})
    assert wrong == {}


def test_english_has_no_space_before_punctuation_and_no_guillemets() -> None:
    assert {key for key, text in prose("en").items() if re.search(r"\s[;:?!]|[«»\u202f\u00a0]", text)} == set()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_apostrophes_are_straight_throughout(language: str) -> None:
    assert {key for key, text in messages(language).items() if "’" in text} == set()


def test_the_articles_capitals_stay_on_buttons_not_in_sentences() -> None:
    capitals = re.compile(r"\b(votre|Quelle|Quel est votre) (Nom|Prénom|Adresse|Mot de passe)\b")
    assert {key for key, text in messages("fr").items() if capitals.search(text)} == set()


def test_every_key_is_in_both_languages_with_the_same_placeholders_and_kind() -> None:
    assert set(messages("fr")) == set(messages("en"))
    assert {key for key in messages("fr") if placeholders(messages("fr")[key]) != placeholders(messages("en")[key])
            or (len(plural_forms("fr")[key]) > 1) != (len(plural_forms("en")[key]) > 1)} == set()
