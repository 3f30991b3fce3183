# SPDX-License-Identifier: AGPL-3.0-or-later
"""A Telegram destination: a person's chat with the bot, a group, or a public channel.

- `kind="chat"`: a numeric chat id (positive for a person who started the bot, negative for a group);
- `kind="channel"`: a public channel, as `@name` or its `-100…` id. One post reaches every member: this is
  how one alert reaches thousands of people in seconds (the bot must be an admin of the channel).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from creneau.notify.base import DestinationConfig

_CHANNEL_NAME = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{3,31}$")
CHANNEL_ID_MAX = -1_000_000_000_000  # channel and supergroup ids are -100… (13+ digits)


class TelegramConfig(DestinationConfig):
    chat: int | str = Field(description="Chat id (e.g. 123456789), or @name / -100… id for a public channel.")
    kind: Literal["chat", "channel"] = Field("chat", description="chat (a person or a group) or channel.")

    @field_validator("chat", mode="before")
    @classmethod
    def _chat(cls, value: object) -> int | str:
        if isinstance(value, bool):
            raise ValueError("chat id must be a number or @name")
        if isinstance(value, int):
            return value
        text = str(value).strip()
        if re.fullmatch(r"-?\d{1,20}", text):
            return int(text)
        if _CHANNEL_NAME.match(text):
            return text
        raise ValueError(
            f"invalid chat {text!r}: expected a numeric chat id (e.g. 123456789) or a public channel @name "
            "(5 to 32 letters, digits or underscores, starting with a letter)"
        )

    @model_validator(mode="after")
    def _consistent(self) -> TelegramConfig:
        if self.chat == 0:
            raise ValueError("chat id 0 does not exist")
        if self.kind == "chat" and isinstance(self.chat, str):
            raise ValueError(f"{self.chat} is a channel name: use kind=channel (bots cannot message people by name)")
        if self.kind == "channel" and isinstance(self.chat, int) and self.chat > CHANNEL_ID_MAX:
            raise ValueError(f"{self.chat} is not a channel id (channel ids start with -100)")
        return self

    @property
    def is_private(self) -> bool:
        """True for a person's chat: Telegram lets a bot send ~1 message/s there, 20/min to groups/channels."""
        return self.kind == "chat" and isinstance(self.chat, int) and self.chat > 0

    def destination_key(self) -> str:
        return f"telegram:{self.chat}"

    def is_broadcast(self) -> bool:
        return self.kind == "channel"

    def redacted(self) -> str:
        if isinstance(self.chat, str):
            return self.chat
        digits = str(abs(self.chat))
        return f"chat {'-' if self.chat < 0 else ''}{digits[:2]}…{digits[-2:]}"
