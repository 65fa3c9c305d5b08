"""Accepted baselines: the new normal an on-call engineer chose (issue 16).

``drift baseline accept`` (or the dashboard's button) records a range of the
monitor's own data as the new reference of one feature or of every feature
(:meth:`drift.store.ResultsStore.accept_baseline`). From then on, the next
baseline a run prepares is fitted, for those features, on that range: bins
and reference counts come from ``[range_start, range_end)``, frozen like a
fixed reference whatever the monitor's reference mode, and the old baseline
version stays in the store's history. Per feature the newest acceptance
that covers it is in force (one of the feature, or one of the whole
monitor), until a newer one is accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from drift.run.references import WindowedReference
from drift.store import ResultsStore
from drift.store.actions import ActionRow
from drift.store.records import BaselineRecord

__all__ = [
    "ACCEPTED_SPEC_KEY",
    "accepted_features",
    "accepted_groups",
    "accepted_in_force",
    "accepted_key",
    "overlay_accepted",
]

#: Where a baseline record keeps the id of the acceptance it was fitted for.
ACCEPTED_SPEC_KEY = "accepted_action"


def accepted_in_force(
    store: ResultsStore, monitor: str, features: Iterable[str]
) -> dict[str, ActionRow]:
    """Per feature of ``features``, the newest accepted baseline that covers it.

    Features no acceptance covers are left out.
    """
    names = list(features)
    found: dict[str, ActionRow] = {}
    for action in store.accepted_baselines(monitor):  # newest first
        for name in names:
            if name not in found and action.feature in (None, name):
                found[name] = action
    return found


def accepted_key(accepted: Mapping[str, ActionRow]) -> dict[str, int]:
    """What a baseline fitted under ``accepted`` depends on: each feature's action id."""
    return {name: action.id for name, action in sorted(accepted.items())}


def accepted_groups(accepted: Mapping[str, ActionRow]) -> list[tuple[ActionRow, list[str]]]:
    """The acceptances in force, each with the features it is the reference of."""
    groups: dict[int, tuple[ActionRow, list[str]]] = {}
    for name, action in accepted.items():
        groups.setdefault(action.id, (action, []))[1].append(name)
    return list(groups.values())


def overlay_accepted(
    reference: WindowedReference, baseline: Mapping[str, BaselineRecord], frozen: WindowedReference
) -> WindowedReference:
    """``reference``, with the features fitted on an accepted range taken from ``frozen``.

    ``frozen`` is the reference stored with the baseline
    (:func:`drift.run.baseline.stored_reference`): an accepted range is
    counted once, whatever the monitor's reference mode.
    """
    names = accepted_features(baseline)
    if not names:
        return reference
    return WindowedReference(
        {**reference.histograms, **{n: frozen.histograms[n] for n in names}},
        {**reference.dispersions, **{n: frozen.dispersions[n] for n in names}},
        {**reference.missing, **{n: frozen.missing[n] for n in names}},
    )


def accepted_features(baseline: Mapping[str, BaselineRecord]) -> Sequence[str]:
    """The features of ``baseline`` fitted on an accepted range."""
    return [n for n, r in baseline.items() if r.binning_spec.get(ACCEPTED_SPEC_KEY) is not None]
