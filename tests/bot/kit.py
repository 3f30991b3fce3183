# SPDX-License-Identifier: AGPL-3.0-or-later
"""People talking to the bot through the fake Bot API, and accounts to link their chats to."""

from __future__ import annotations

from datetime import timedelta

from creneau.bot.linking import issue_link_token
from creneau.notify.fakes.telegram import FakeTelegram, SentMessage
from creneau.sim.clock import ManualClock
from creneau.store import AccountRepo, Store


class Person:
    """One private chat. Each action returns what the bot sent to this chat in answer to it."""

    def __init__(self, fake: FakeTelegram, chat_id: int, *, language: str = "fr") -> None:
        self.fake = fake
        self.chat_id = chat_id
        self.language = language

    async def say(self, text: str) -> list[SentMessage]:
        start = len(self.fake.messages)
        await self._wait(await self.fake.updates.send_text(self.chat_id, text, language=self.language))
        return self._since(start)

    async def press(self, message: SentMessage, button: str) -> list[SentMessage]:
        start = len(self.fake.messages)
        await self._wait(await self.fake.updates.press(message, button))
        return self._since(start)

    async def press_data(self, message: SentMessage, data: str) -> list[SentMessage]:
        start = len(self.fake.messages)
        await self._wait(await self.fake.updates.press_data(message, data, user_id=self.chat_id))
        return self._since(start)

    async def reply(self, message: SentMessage, text: str) -> list[SentMessage]:
        """Reply to `message` (in this person's chat, whatever chat the message was in)."""
        start = len(self.fake.messages)
        update = await self.fake.updates.send_text(self.chat_id, text, language=self.language, reply_to=message)
        await self._wait(update)
        return self._since(start)

    async def press_as(self, message: SentMessage, data: str) -> list[SentMessage]:
        """Press a button of someone else's message (a forged update: the chat is theirs, the user is us)."""
        start = len(self.fake.messages)
        await self._wait(await self.fake.updates.press_data(message, data, user_id=self.chat_id))
        return self._since(start)

    def alerts(self) -> list[str]:
        """Texts of the pop-up answers to this person's button presses."""
        return [a.get("text", "") for a in self.fake.updates.callback_answers]

    @property
    def received(self) -> list[SentMessage]:
        return self.fake.sent_to(self.chat_id)

    async def _wait(self, update_id: int) -> None:
        await self.fake.updates.handled(update_id)

    def _since(self, start: int) -> list[SentMessage]:
        return [m for m in self.fake.messages[start:] if m.chat_id == self.chat_id]


def only(messages: list[SentMessage]) -> SentMessage:
    assert len(messages) == 1, [m.plain for m in messages]
    return messages[0]


class Accounts:
    def __init__(self, store: Store, clock: ManualClock) -> None:
        self.store = store
        self.clock = clock

    async def create(self, email: str, *, locale: str = "fr") -> int:
        return await AccountRepo(self.store).sign_in(email, locale=locale, now=self.clock.now())

    async def token(self, subscriber_id: int, *, ttl_min: float = 30) -> str:
        return await issue_link_token(self.store, subscriber_id, now=self.clock.now(), ttl=timedelta(minutes=ttl_min))

    async def linked(self, person: Person, email: str, *, locale: str = "fr") -> int:
        """A new account whose chat is `person`'s, linked through `/start TOKEN`."""
        subscriber_id = await self.create(email, locale=locale)
        await person.say(f"/start {await self.token(subscriber_id)}")
        return subscriber_id
