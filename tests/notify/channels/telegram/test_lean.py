# SPDX-License-Identifier: AGPL-3.0-or-later
"""aiogram imported through the channel builds only the models it uses, and still sends, fails and parses
updates as usual (in a fresh interpreter: this test process may have imported aiogram already)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio, json
    from datetime import UTC, datetime

    import aiohttp

    from creneau.config import load_settings
    from creneau.notify.channels.telegram.config import TelegramConfig
    from creneau.notify.channels.telegram.transport import TelegramTransport, make_bot
    from creneau.notify.errors import PermanentError
    from creneau.notify.fakes.telegram import FakeTelegram
    from creneau.notify.message import Alert
    from creneau.types import Slot, System, Target

    import aiogram.types

    def status():
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) // 1024 for line in f if line.startswith("VmHWM"))

    async def main():
        lean = not aiogram.types.Update.__pydantic_complete__
        target = Target("t1", System.ANTS, "https://rendezvouspasseport.ants.gouv.fr/", "o", "d", "Lille")
        now = datetime.now(UTC)
        alert = Alert.from_opening(opening_id="o1", watch_id="1", channel_id="2", target=target,
                                   slots=[Slot(start=now)], detected_at=now)
        async with FakeTelegram() as fake, aiohttp.ClientSession() as http:
            settings = load_settings(telegram_bot_token=fake.token, telegram_api_base=fake.api_base)
            transport = TelegramTransport(make_bot(settings, http))
            receipt = await transport.send(alert, TelegramConfig(chat=7), locale="fr")
            fake.blocked.add(8)
            try:
                await transport.send(alert, TelegramConfig(chat=8), locale="en")
                refused = None
            except PermanentError as exc:
                refused = exc.code
        update = aiogram.types.Update.model_validate(
            {"update_id": 1, "message": {"message_id": 3, "date": 1, "chat": {"id": 7, "type": "private"},
                                         "from": {"id": 7, "is_bot": False, "first_name": "A"}, "text": "/start"}}
        )
        print(json.dumps({"lean": lean, "sent": receipt.provider_id, "refused": refused,
                          "update": update.message.text, "peak_mb": status()}))

    asyncio.run(main())
    """
)


def test_telegram_channel_imports_aiogram_without_building_every_model() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stderr
    result = done.stdout.strip().splitlines()[-1]
    assert '"lean": true' in result
    assert '"refused": "telegram.blocked"' in result
    assert '"update": "/start"' in result
    assert '"sent": null' not in result
    # Built eagerly, aiogram's models alone take ~120 MB; lean, the whole interpreter stays well below that.
    peak = int(result.rsplit('"peak_mb": ', 1)[1].rstrip("}"))
    assert peak < 150, result
