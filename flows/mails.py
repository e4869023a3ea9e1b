"""E-mails written from the catalogue: a plain-text part and an HTML part, with a button for the link."""

from html import escape

from flows.catalogue import Catalogue
from flows.ports import Mail


def compose(catalogue: Catalogue, to: str, kind: str, link: str | None = None, **values: object) -> Mail:
    """The e-mail `kind` (a catalogue prefix such as "mail.invitation") addressed to `to`."""
    text = catalogue.text(f"{kind}.body", link=link or "", **values)
    paragraphs = "".join(
        f"<p>{escape(part).replace(chr(10), '<br>')}</p>"
        for part in catalogue.text(f"{kind}.body", link="", **values).split("\n\n")
    )
    button = ""
    if link:
        button = catalogue.text("mail.button_html", link=escape(link, quote=True),
                                label=escape(catalogue.text(f"{kind}.button")))
    html = catalogue.text("mail.html", body=paragraphs, button=button)
    return Mail(to, catalogue.text(f"{kind}.subject", **values), text, html)
