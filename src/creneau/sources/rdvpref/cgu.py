# SPDX-License-Identifier: AGPL-3.0-or-later
"""Reading the captcha page and the CaptchEtat widget (booking-systems.md §1.1, §1.3b, §1.4). Pure.

The `/cgu/` page carries `<rdv-captchetat token endpoint-url captcha-style-name>` and the "Suivant" button
whose `formaction` is `…/_validerCaptcha`. The widget's HTML (`?get=html&c={style}`) holds the captcha id
in the hidden input `BDC_VCID_{style}`. Reading them is all creneau does with a captcha: the image goes to
a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_DEMARCHE_RE = re.compile(r"^(.*?/rdvpref/reservation/demarche/\d+/)")


@dataclass(frozen=True, slots=True)
class CaptchaWidget:
    """What the captcha page says about its captcha and where the answer goes."""

    token: str = field(repr=False)
    endpoint_url: str
    style: str
    post_url: str
    form: dict[str, str] = field(default_factory=dict, repr=False)


def demarche_base(url: str) -> str | None:
    """`https://…/rdvpref/reservation/demarche/{id}/` from any URL of that démarche."""
    match = _DEMARCHE_RE.match(url)
    return match.group(1) if match else None


def _prop(node: LexborNode, name: str) -> str:
    """A component prop whatever its spelling (`endpoint-url`, `:endpoint-url="'…'"`, `endpointUrl`)."""
    wanted = name.replace("-", "").lower()
    for key, value in node.attributes.items():
        if key.removeprefix("v-bind").lstrip(":").replace("-", "").lower() == wanted and value:
            value = value.strip()
            return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == "'" else value
    return ""


def _hidden_inputs(root: LexborNode | None) -> dict[str, str]:
    if root is None:
        return {}
    return {
        name: node.attributes.get("value") or ""
        for node in root.css('input[type="hidden"]')
        if (name := node.attributes.get("name"))
    }


def read_widget(text: str, url: str) -> CaptchaWidget | None:
    """The captcha widget of a `/cgu/` page; None when the page has none (or an incomplete one)."""
    tree = LexborHTMLParser(text)
    node = tree.css_first("rdv-captchetat")
    if node is None:
        return None
    token, endpoint, style = _prop(node, "token"), _prop(node, "endpoint-url"), _prop(node, "captcha-style-name")
    if not (token and endpoint and style):
        return None
    button = tree.css_first('[formaction*="_validerCaptcha"]')
    form: LexborNode | None = None
    if button is not None:
        action = button.attributes.get("formaction") or ""
        form = button.parent
        while form is not None and form.tag != "form":
            form = form.parent
    else:
        form = tree.css_first('form[action*="_validerCaptcha"]')
        action = form.attributes.get("action") or "" if form is not None else ""
    base = demarche_base(url) or url
    post_url = urljoin(url, action) if action else urljoin(base, "_validerCaptcha")
    return CaptchaWidget(token, urljoin(url, endpoint), style, post_url, _hidden_inputs(form))


def read_captcha_html(text: str, style: str) -> tuple[str, dict[str, str]] | None:
    """(captcha id, hidden inputs) from the widget's HTML; None when the id is missing."""
    tree = LexborHTMLParser(text)
    fields = _hidden_inputs(tree.root)
    captcha_id = fields.get(f"BDC_VCID_{style}", "")
    if not captcha_id:
        node = tree.css_first(f'[id="BDC_VCID_{style}"]')
        captcha_id = (node.attributes.get("value") or "") if node is not None else ""
    return (captcha_id.strip(), fields) if captcha_id.strip() else None
