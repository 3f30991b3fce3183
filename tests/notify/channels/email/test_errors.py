# SPDX-License-Identifier: AGPL-3.0-or-later
"""SMTP replies: the known dead-mailbox replies disable the channel, others do not, 4xx retries."""

from __future__ import annotations

import pytest

from creneau.notify.channels.email.config import EmailConfig
from creneau.notify.channels.email.errors import PERMANENT
from creneau.notify.channels.email.transport import EmailTransport
from creneau.notify.errors import PermanentError, TransientError
from creneau.notify.fakes.smtp import SmtpSink
from creneau.notify.message import Alert

TO = EmailConfig(address="gone@example.org")

# One real-world reply per known entry, proving each entry disables the channel.
KNOWN_REPLIES = {
    "smtp.mailbox_unknown": (550, "5.1.1 <gone@example.org>: Recipient address rejected: User unknown"),
    "smtp.mailbox_disabled": (550, "5.2.1 The email account that you tried to reach is disabled"),
    "smtp.bad_domain": (550, "5.1.2 Domain not found"),
    "smtp.user_not_local": (551, "5.1.6 User not local; please try <x@example.net>"),
    "smtp.mailbox_name_invalid": (553, "5.1.3 Mailbox name not allowed"),
    "smtp.null_mx": (556, "5.1.10 Recipient address has null MX"),
}


def test_email_known_errors_have_one_sample_each() -> None:
    assert {entry.code for entry in PERMANENT} == set(KNOWN_REPLIES)


@pytest.mark.parametrize(("code", "reply"), list(KNOWN_REPLIES.items()), ids=list(KNOWN_REPLIES))
async def test_email_send_disables_the_channel_when_the_mailbox_is_dead(
    transport: EmailTransport, sink: SmtpSink, alert: Alert, code: str, reply: tuple[int, str]
) -> None:
    sink.reject[TO.address] = reply

    with pytest.raises(PermanentError) as caught:
        await transport.send(alert, TO, locale="fr")

    assert caught.value.disable_channel
    assert caught.value.code == code


@pytest.mark.parametrize(
    "reply",
    [(550, "5.7.1 Message rejected as spam"), (553, "5.7.1 Sender not authorised for this content")],
    ids=["550-spam", "553-policy"],
)
async def test_email_send_keeps_the_channel_when_a_5xx_is_not_a_dead_mailbox(
    transport: EmailTransport, sink: SmtpSink, alert: Alert, reply: tuple[int, str]
) -> None:
    sink.reject[TO.address] = reply

    with pytest.raises(PermanentError) as caught:
        await transport.send(alert, TO, locale="fr")

    assert not caught.value.disable_channel


@pytest.mark.parametrize(
    ("stage", "reply"),
    [("rcpt", (450, "4.2.1 Mailbox busy")), ("data", (451, "4.3.0 Try again later"))],
    ids=["rcpt-450", "data-451"],
)
async def test_email_send_is_transient_when_the_server_answers_4xx(
    transport: EmailTransport, sink: SmtpSink, alert: Alert, stage: str, reply: tuple[int, str]
) -> None:
    if stage == "rcpt":
        sink.reject[TO.address] = reply
    else:
        sink.data_replies.append(reply)

    with pytest.raises(TransientError):
        await transport.send(alert, TO, locale="fr")
    await transport.send(alert, EmailConfig(address="ok@example.org"), locale="fr")

    assert sink.sessions == 1  # the connection survived the refusal


async def test_email_send_is_transient_when_the_relay_is_down(
    transport: EmailTransport, sink: SmtpSink, alert: Alert
) -> None:
    await sink.close()

    with pytest.raises(TransientError) as caught:
        await transport.send(alert, TO, locale="fr")

    assert caught.value.code == "smtp.connection"
