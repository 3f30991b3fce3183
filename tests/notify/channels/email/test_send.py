# SPDX-License-Identifier: AGPL-3.0-or-later
"""E-mail against the aiosmtpd sink on a real port: content, headers, both parts, the pool."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from creneau.config import Settings
from creneau.notify.base import Locale
from creneau.notify.channels.email.config import EmailConfig
from creneau.notify.channels.email.transport import EmailTransport, smtp_pool
from creneau.notify.errors import TransientError
from creneau.notify.fakes.smtp import SmtpSink
from creneau.notify.links import check_unsubscribe_token
from creneau.notify.message import Alert, Message
from creneau.types import Office

TO = EmailConfig(address="camille@example.org")


def _parts(sink: SmtpSink) -> tuple[str, str]:
    message = sink.messages[-1].message
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


@pytest.mark.parametrize("locale", ["fr", "en"])
async def test_email_send_delivers_text_and_html_with_the_alert_content_when_sent(
    transport: EmailTransport,
    sink: SmtpSink,
    alert: Alert,
    locale: Locale,
    expected: dict[str, list[str]],
    official_url: str,
) -> None:
    receipt = await transport.send(alert, TO, locale=locale)

    assert sink.messages[-1].rcpt_tos == ("camille@example.org",)
    text, html = _parts(sink)
    for phrase in expected[locale]:
        assert phrase in text, phrase
        assert phrase.replace("'", "&#39;") in html, phrase
    assert f'href="{official_url}"' in html
    assert receipt.provider_id == sink.messages[-1].message["Message-ID"]
    assert receipt.detail["reply"].startswith("2.0.0 Ok: queued")


async def test_email_send_uses_a_deterministic_message_id_when_the_same_delivery_is_resent(
    transport: EmailTransport, sink: SmtpSink, alert_factory: Callable[..., Alert]
) -> None:
    await transport.send(alert_factory("ch-1"), TO, locale="fr")
    await transport.send(alert_factory("ch-1"), TO, locale="fr")
    await transport.send(alert_factory("ch-2"), TO, locale="fr")

    ids = [m.message["Message-ID"] for m in sink.messages]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0] == f"<{alert_factory('ch-1').id}@creneau.example>"


async def test_email_send_adds_one_click_unsubscribe_headers_when_sent(
    transport: EmailTransport, sink: SmtpSink, alert: Alert
) -> None:
    await transport.send(alert, TO, locale="fr")

    headers = sink.messages[-1].message
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = headers["List-Unsubscribe"].strip().strip("<>")
    prefix = "https://creneau.example/unsubscribe/ch-1/"
    assert url.startswith(prefix)
    assert check_unsubscribe_token(b"s3cret-for-tests", "ch-1", url.removeprefix(prefix))
    assert url in _parts(sink)[0]


@pytest.mark.parametrize("locale", ["fr", "en"])
async def test_email_send_delivers_each_notice_when_the_watch_changes(
    transport: EmailTransport, sink: SmtpSink, locale: Locale, notices: list[Message]
) -> None:
    for notice in notices:
        await transport.send(notice, TO, locale=locale)

    subjects = [m.message["Subject"] for m in sink.messages]
    words = {"fr": ["Surveillance interrompue", "Vérification humaine", "désactivé"],
             "en": ["Watch interrupted", "Human check", "disabled"]}[locale]  # fmt: skip
    assert all(word in subject for word, subject in zip(words, subjects, strict=True))
    assert "bot was blocked by the user" in sink.messages[-1].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_email_send_escapes_names_in_html_when_they_contain_markup(
    transport: EmailTransport, sink: SmtpSink, alert_factory: Callable[..., Alert]
) -> None:
    office = Office(id="x", name="<script>alert(1)</script>", kind="prefecture", departement="75")
    await transport.send(alert_factory(office=office), TO, locale="fr")

    text, html = _parts(sink)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<script>alert(1)</script>" in text


async def test_email_pool_reuses_connections_when_sending_several_messages(
    transport: EmailTransport, sink: SmtpSink, alert: Alert
) -> None:
    for _ in range(5):
        await transport.send(alert, TO, locale="fr")

    assert len(sink.messages) == 5
    assert sink.sessions == 1


async def test_email_pool_rebuilds_the_connection_when_an_idle_one_fails_its_noop(
    settings: Settings, sink: SmtpSink, alert: Alert
) -> None:
    now = [0.0]
    transport = EmailTransport(smtp_pool(settings, clock=lambda: now[0]), settings)
    await transport.send(alert, TO, locale="fr")
    sink.drop_connections()
    now[0] += 60  # idle long enough to be checked before reuse

    await transport.send(alert, TO, locale="fr")
    await transport.close()

    assert len(sink.messages) == 2
    assert sink.sessions == 2


async def test_email_pool_discards_the_connection_when_a_send_on_it_fails(
    transport: EmailTransport, sink: SmtpSink, alert: Alert
) -> None:
    await transport.send(alert, TO, locale="fr")
    sink.drop_connections()  # the connection looks fresh, so it is used without a NOOP and fails

    with pytest.raises(TransientError):
        await transport.send(alert, TO, locale="fr")
    await transport.send(alert, TO, locale="fr")

    assert len(sink.messages) == 2
    assert sink.sessions == 2


async def test_email_send_writes_ascii_crlf_lines_and_decodable_headers_when_names_are_accented(
    sink: SmtpSink, alert: Alert, settings: Settings
) -> None:
    settings = settings.model_copy(update={"smtp_from": "Créneau Alertes <alertes@creneau.example>"})
    transport = EmailTransport(smtp_pool(settings), settings)
    await transport.send(alert, TO, locale="fr")
    await transport.close()

    raw, message = sink.messages[-1].data, sink.messages[-1].message
    assert raw.isascii()
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert message["Subject"] == "Créneaux disponibles : Remise de titre de séjour — Préfecture de l'Isère"
    assert message["From"].addresses[0].display_name == "Créneau Alertes"
    assert sink.messages[-1].mail_from == "alertes@creneau.example"
