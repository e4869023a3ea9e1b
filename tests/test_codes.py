"""Codes as people type them: any spelling of the right code opens, only real misses count."""

import re
from dataclasses import replace

from hypothesis import given, settings, strategies as st

from flows import codes
from flows.assistant import Assistant
from tests.flow_harness import PURCHASE_EMAIL, Desk, claim
from tests.test_members_flow import Account, joined

SEPARATORS = ["", "", "", " ", "  ", "-", "\u00a0", "–", ".", "\t"]
LOOK_ALIKES = {"0": "0Oo", "1": "1IiLl"}

valid_codes = st.text(alphabet=codes.TYPED_ALPHABET, min_size=codes.TYPED_LENGTH, max_size=codes.TYPED_LENGTH)


@st.composite
def spelled(draw: st.DrawFn, code: str) -> str:
    """The code as a person may type it: any case, look-alike letters, spaces or dashes anywhere."""
    parts = [draw(st.sampled_from(LOOK_ALIKES.get(c, c + c.lower()))) + draw(st.sampled_from(SEPARATORS))
             for c in code]
    return draw(st.sampled_from(["", " ", "\n"])) + "".join(parts) + draw(st.sampled_from(["", " ", "\n"]))


@given(st.data(), valid_codes)
def test_any_spelling_of_a_valid_code_reads_as_that_code(data: st.DataObject, code: str) -> None:
    assert codes.typed_spelling(data.draw(spelled(code))) == code


@settings(max_examples=60, deadline=None)
@given(st.data(), valid_codes)
def test_any_spelling_of_the_mailed_code_opens_the_subscription(data: st.DataObject, code: str) -> None:
    base = Desk.build()
    toolkit = replace(base.toolkit, short_code=lambda: code)
    desk = Desk(toolkit, base.outbox, base.clock, Assistant(toolkit))
    number = desk.open().subscription.number
    chat = desk.chat()
    claim(chat, number, PURCHASE_EMAIL)
    assert desk.emailed_code() == code
    welcome = chat.type(data.draw(spelled(code)))
    assert "Nombre d'utilisateurs : 1" in welcome.text


def test_malformed_answers_at_the_code_question_are_explained_and_never_lock_anyone_out(desk: Desk) -> None:
    number = desk.open().subscription.number
    chat = desk.chat()
    claim(chat, number, PURCHASE_EMAIL)
    for typo in ("123", "bonjour !", "ABCD-EFGH-J", "le code est ABCDEFGH", ""):
        refused = chat.type(typo)
        assert "Ce n'est pas un code" in refused.text and "Trop d'essais" not in refused.text
    assert desk.toolkit.store.load_conversation(chat.chat_id).failures == 0
    code = desk.emailed_code()
    assert "Nombre d'utilisateurs : 1" in chat.type(f"{code[:4].lower()} {code[4:]}").text


def test_a_malformed_code_is_explained_in_english_too(desk: Desk) -> None:
    chat = desk.chat(language="en")
    claim(chat, desk.open().subscription.number, PURCHASE_EMAIL)
    assert "That is not a code" in chat.type("hello").text


def test_only_well_formed_wrong_codes_count_and_two_typos_lock_nobody_out(desk: Desk) -> None:
    number = desk.open().subscription.number
    chat = desk.chat()
    claim(chat, number, PURCHASE_EMAIL)
    code = desk.emailed_code()
    chat.type(code.lower()[:7])  # one character short: a format problem
    chat.type(code + "X")  # one too many
    assert desk.toolkit.store.load_conversation(chat.chat_id).failures == 0
    assert "Nombre d'utilisateurs : 1" in chat.type(" ".join(code)).text


def test_the_email_change_code_is_read_the_same_forgiving_way() -> None:
    account = Account()
    marie = joined(account)
    marie.press("Adresse e-mail")
    marie.type("marie.curie@labo.fr")
    code = re.search(r"\b([0-9A-Z]{8})\b", account.outbox.mails[-1].text).group(1)  # type: ignore[union-attr]
    assert "Ce n'est pas un code" in marie.type("merci").text
    conversation = account.toolkit.store.load_conversation(marie.chat_id)
    assert conversation is not None and conversation.failures == 0
    done = marie.type(f"{code[:4].lower()}-{code[4:]}")
    assert "Votre adresse e-mail est à présent marie.curie@labo.fr" in done.text


def test_a_commencer_link_code_is_never_altered_by_the_forgiving_reading(desk: Desk) -> None:
    opened = desk.open()
    assert len(opened.code) == codes.LINK_LENGTH and opened.code in codes.spellings(f" {opened.code} ")
    assert "Bienvenue" in desk.chat().type(opened.code).text
