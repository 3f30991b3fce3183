# SPDX-License-Identifier: AGPL-3.0-or-later
"""The Telegram bot (aiogram 3): account linking, guided watches, watch management and the captcha relay.

- `linking`: `/start TOKEN` (and `telegram_link()`, which the web app's account page calls), `/help`;
- `watch`: `/watch`, a guided choice of office and booking page;
- `manage`: `/list`, `/pause`, `/stop`, `/lang`, `/unlink`;
- `captcha`: `/captcha on|off`, relayed security images and their answers;
- `desk`: the store-backed captcha desk (`CRENEAU_CAPTCHA_DESK=store`);
- `runner`: `BotRunner`, long polling plus the relay loop (`creneau serve --role bot`);
- `texts/`: every sentence, in French and English. See docs/bot.md.
"""

from creneau.notify.channels.telegram import lean

lean.install()  # before any bot module imports aiogram: its models are built when first used
