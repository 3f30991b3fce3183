# SPDX-License-Identifier: AGPL-3.0-or-later
"""Detector: a target's observations in, recorded opening transitions out (pure, no I/O).

`detect(state, observation) -> Detection(state, transitions)`; alerts come only from transitions whose
`new_slots` is not empty, filtered per watch with `alert_slots(watch_filter, transition)`.
"""

from creneau.detector.detect import DEFAULT_GRACE_S, Detection, Phase, Transition, TransitionKind, detect
from creneau.detector.filters import WatchFilter, alert_slots, matching_slots
from creneau.detector.state import DetectorState, SlotLife

__all__ = [
    "DEFAULT_GRACE_S",
    "Detection",
    "DetectorState",
    "Phase",
    "SlotLife",
    "Transition",
    "TransitionKind",
    "WatchFilter",
    "alert_slots",
    "detect",
    "matching_slots",
]
