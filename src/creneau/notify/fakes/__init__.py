# SPDX-License-Identifier: AGPL-3.0-or-later
"""Local stand-ins for the providers, speaking their real protocols on real ports (tests, demo, benchmarks).

- `telegram.FakeTelegram`: the Bot API (`/bot{token}/{method}`), with its flood limits and 429 answers;
- `smtp.SmtpSink`: an aiosmtpd server that keeps every message;
- `ntfy.NtfySink`: the ntfy publish protocol (headers or JSON);
- `webhook.WebhookSink`: records bodies and headers and checks their HMAC signature.

None is forgiving: an unknown path or method gets the provider's own 404, never `200 {}`.
"""
