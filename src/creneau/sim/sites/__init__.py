# SPDX-License-Identifier: AGPL-3.0-or-later
"""The simulated booking sites, one module each; `creneau.sim.server` dispatches to them by Host header."""
