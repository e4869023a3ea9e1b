"""E-mails written from the catalogue: a plain-text part and an HTML part, with a button for the link."""

from html import escape

from flows.catalogue import Catalogue
from flows.ports import Mail

_LINK = "\x00link\x00"  # where the link stands in the text: the HTML button goes there


def compose(catalogue: Catalogue, to: str, kind: str, link: str | None = None, *, vendor: str,
            **values: object) -> Mail:
    """The e-mail `kind` (a catalogue prefix such as "mail.invitation") addressed to `to`, in the
    catalogue's language and signed by `vendor`. In the HTML part the button stands where the link
    stands in the text, after the sentence that introduces it."""
    signature = catalogue.text("mail.signature", vendor=vendor)
    text = catalogue.text(f"{kind}.body", link=link or "", **values) + "\n\n" + signature
    before, _, after = catalogue.text(f"{kind}.body", link=_LINK, **values).partition(_LINK)
    button = ""
    if link:
        button = catalogue.text("mail.button_html", link=escape(link, quote=True),
                                label=escape(catalogue.text(f"{kind}.button")))
    body = _paragraphs(before) + button + _paragraphs(after + "\n\n" + signature)
    html = catalogue.text("mail.html", body=body)
    return Mail(to, catalogue.text(f"{kind}.subject", **values), text, html)


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(part.strip()).replace(chr(10), '<br>')}</p>"
                   for part in text.split("\n\n") if part.strip())
