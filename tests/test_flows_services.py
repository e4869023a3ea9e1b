"""Steps 3 and 4 as a transcript: connected services, the download, the summary, then the menu."""

import pytest

from flows.offer import MOBILE_DATA
from tests.flow_harness import PURCHASE_EMAIL, Chat, Desk, admin_through_step_1, claim

DUCS = "Télédéclaration DUCS, DADS-U, DUE et AED"
MOBILE_NOTE = "L'utilisation de Sage 50 en mode Données Mobiles requiert une connexion internet permanente."


def at_services(desk: Desk, product: str = "comptabilite") -> tuple[Chat, str]:
    """A one-seat administrator who just reached step 3; returns the chat and the subscription number."""
    chat, opened = desk.opened_chat(product=product, seats=1)
    admin_through_step_1(chat, own_user=True)
    return chat, opened.subscription.number


def test_the_services_step_offers_every_service_of_the_article(desk: Desk) -> None:
    chat, _ = at_services(desk, "paye")
    assert "Étape 3/4 — Services connectés" in chat.last.text
    labels = chat.labels()
    for name in ("Ciel Données Mobiles", "Télédéclaration de TVA + Bilan", DUCS, "Télépaiements SEPA"):
        assert f"☐ {name}" in labels
    assert "⏳ Activer plus tard" in labels and "⬇️ Télécharger mon logiciel" in labels


def test_ducs_can_be_switched_on_for_ciel_paye(desk: Desk) -> None:
    chat, number = at_services(desk, "paye")
    ticked = chat.press(DUCS)
    assert f"☑ {DUCS}" in chat.labels(ticked)
    assert desk.account(number).services["ducs_dads"] is True


def test_ducs_is_shown_unavailable_with_its_reason_and_never_activated(desk: Desk) -> None:
    chat, number = at_services(desk)
    assert f"🚫 {DUCS} : indisponible, réservé à Ciel Paye." in chat.last.text
    refused = chat.press(DUCS)
    assert "Ce service n'est pas disponible pour votre logiciel" in refused.text
    assert f"🚫 {DUCS}" in chat.labels(refused)
    assert "ducs_dads" not in desk.account(number).services


def test_a_service_pressed_twice_is_switched_off_again(desk: Desk) -> None:
    chat, number = at_services(desk)
    chat.press("Télépaiements SEPA")
    unticked = chat.press("Télépaiements SEPA")
    assert "☐ Télépaiements SEPA" in chat.labels(unticked)
    assert desk.account(number).services["sepa"] is False


def test_activer_plus_tard_names_the_services_left_for_later(desk: Desk) -> None:
    chat, _ = at_services(desk)
    chat.press("Ciel Données Mobiles")
    chat.press("Télédéclaration de TVA")
    later = chat.press("Activer plus tard")
    assert "Services non activés : Télépaiements SEPA." in later.text
    assert "Étape 4/4" in later.text


def test_download_moves_on_without_a_note(desk: Desk) -> None:
    chat, _ = at_services(desk)
    download = chat.press("Télécharger mon logiciel")
    assert "Services non activés" not in download.text and "Étape 4/4 — Téléchargement de Sage 50" in download.text


def test_step_4_gives_the_downloads_the_summary_and_the_closing_steps(desk: Desk) -> None:
    chat, number = at_services(desk)
    chat.press("Télépaiements SEPA")
    download = chat.press("Télécharger mon logiciel")
    settings = desk.toolkit.settings
    urls = {b.label: b.url for row in download.buttons for b in row if b.url}
    assert urls == {"⬇️ TÉLÉCHARGER mon logiciel": settings.software_download_url,
                    "⬇️ Ciel direct Déclaration": settings.direct_declaration_url}
    assert f"Abonnement {number} — offre « Souscription », Sage 50 Comptabilité, 1 utilisateur" in download.text
    assert "(s)" not in download.text
    assert "Actions : ✅ compte administrateur" in download.text and "Services actifs : Télépaiements SEPA" in download.text
    assert "Jean Dupont <jean.dupont@entreprise.fr> — compte actif — administrateur" in download.text
    assert "1. Ouvrez le lien TÉLÉCHARGER mon logiciel ci-dessous." in download.text
    assert "l'adresse e-mail (jean.dupont@entreprise.fr) et le mot de passe définis à l'étape 1" in download.text
    assert desk.account(number).setup_completed_at == desk.clock.now


@pytest.mark.parametrize("mobile_data", [True, False])
def test_the_mobile_data_note_appears_only_with_that_service(desk: Desk, mobile_data: bool) -> None:
    chat, number = at_services(desk)
    if mobile_data:
        chat.press("Ciel Données Mobiles")
    download = chat.press("Activer plus tard")
    assert (MOBILE_NOTE in download.text) is mobile_data
    assert desk.account(number).services[MOBILE_DATA] is mobile_data


def test_after_the_setup_the_menu_reaches_every_section(desk: Desk) -> None:
    chat, number = at_services(desk)
    chat.press("Télécharger mon logiciel")
    menu = chat.press("Menu")
    assert "Menu de votre abonnement" in menu.text and "Services actifs : aucun" in menu.text
    summary = chat.press("Résumé")
    assert f"Abonnement {number}" in summary.text and "Menu de votre abonnement" in summary.text
    assert "Utilisateurs : 1 / 1" in chat.press("Utilisateurs").text
    chat.press("Menu")
    services = chat.press("Services")
    assert "☐ Ciel Données Mobiles" in chat.labels(services) and "🏠 Menu" in chat.labels(services)
    chat.press("Ciel Données Mobiles")
    assert "Services actifs : Ciel Données Mobiles" in chat.press("Menu").text
    assert MOBILE_NOTE in chat.press("Téléchargements").text


def test_a_finished_account_opens_on_its_menu_in_a_new_chat(desk: Desk) -> None:
    """Another chat that proves the purchase later finds the menu, not the wizard."""
    chat, number = at_services(desk)
    chat.press("Télécharger mon logiciel")
    other = desk.chat(8)
    claim(other, number, PURCHASE_EMAIL)
    menu = other.type(desk.emailed_code())
    assert "Menu de votre abonnement" in menu.text


@pytest.mark.parametrize(("language", "sign_in", "install", "start"), [
    ("fr", "pour vous identifier dans Ciel Paye", "2. Installez Ciel Paye.", "3. Démarrez Ciel Paye."),
    ("en", "to sign in to Ciel Paye", "2. Install Ciel Paye.", "3. Start Ciel Paye."),
])
def test_a_ciel_paye_subscription_is_told_to_install_and_sign_in_to_ciel_paye(
        desk: Desk, language: str, sign_in: str, install: str, start: str) -> None:
    chat, _ = desk.opened_chat(product="paye", language=language)
    assert "Ciel Paye" in chat.last.text.split("\n\n")[-1]  # where they will sign in
    chat.press("CRÉER mon compte Administrateur")
    chat.type("Dupont")
    chat.type("Jean")
    assert sign_in in chat.last.text
    chat.type("jean@entreprise.fr")
    chat.type("Tournesol2026")
    chat.press("Confirm" if language == "en" else "Confirmer")
    download = chat.press("Télécharger mon logiciel")
    assert install in download.text and start in download.text
    steps = download.text[download.text.index(install) - 40:]
    assert "Sage 50" not in steps and "Sage 50 version" not in download.text
