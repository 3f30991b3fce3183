# SPDX-License-Identifier: AGPL-3.0-or-later
"""Telling people: messages (`message`), channels (`channels/<kind>/`, found through `registry`), their
limits (`ratelimit`) and error classes (`errors`); `base` states the contract the outbox relies on, and
`fakes` holds local providers for tests, the demo and the benchmarks. See docs/notifications.md.
"""
