# SPDX-License-Identifier: AGPL-3.0-or-later
"""The durable heart of the pipeline: targets and their leases, observations, openings, the outbox.

Open it with `store = await Store.open(url)` (migrates to the newest schema), use its repositories
(`store.targets`, `store.observations`, `store.openings`, `store.outbox`, `store.subscribers`,
`store.captcha`), and `await store.close()`. See docs/store.md.
"""

from creneau.store import evidence as _evidence_tables  # noqa: F401  (registers the evidence tables)
from creneau.store import telegram as _telegram_tables  # noqa: F401  (registers the Telegram bot's tables)
from creneau.store import watchers as _watcher_tables  # noqa: F401  (registers the web watchers' tables)
from creneau.store.accounts import AccountRepo, Role, SessionUser
from creneau.store.bulk import NewSubscription
from creneau.store.engine import Store, Tx, create_engine_for, normalise_url
from creneau.store.errors import Conflict, NotFound, StoreError, UnsupportedDatabase
from creneau.store.records import (
    CaptchaChallenge,
    CaptchaStatus,
    ChannelRecord,
    ChannelStatus,
    CheckRecorded,
    ClaimedTarget,
    Delivery,
    DeliveryDraft,
    DeliveryState,
    DeliveryStatus,
    OpeningRecord,
    RecordedTransition,
    Route,
    SlotLifetime,
    StoredObservation,
    SubscriberRecord,
    TargetRecord,
    TargetState,
    TransitionRecord,
    WatchRecord,
    WatchStatus,
)
from creneau.store.wakeup import CAPTCHA, DELIVERIES, TARGETS, Subscription

__all__ = [
    "CAPTCHA",
    "DELIVERIES",
    "TARGETS",
    "AccountRepo",
    "CaptchaChallenge",
    "CaptchaStatus",
    "ChannelRecord",
    "ChannelStatus",
    "CheckRecorded",
    "ClaimedTarget",
    "Conflict",
    "Delivery",
    "DeliveryDraft",
    "DeliveryState",
    "DeliveryStatus",
    "NewSubscription",
    "NotFound",
    "OpeningRecord",
    "RecordedTransition",
    "Role",
    "Route",
    "SessionUser",
    "SlotLifetime",
    "Store",
    "StoreError",
    "StoredObservation",
    "SubscriberRecord",
    "Subscription",
    "TargetRecord",
    "TargetState",
    "TransitionRecord",
    "Tx",
    "UnsupportedDatabase",
    "WatchRecord",
    "WatchStatus",
    "create_engine_for",
    "normalise_url",
]
