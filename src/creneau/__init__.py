# SPDX-License-Identifier: AGPL-3.0-or-later
"""creneau: watches French prefecture appointment booking sites and alerts people when a slot opens."""

__version__ = "0.1.0"
