"""Scores: indicator → pillar → overall, no-evidence handling, and properties."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from readiness.indicators import REGISTRY, Reading, overall, score, weighted_mean
from readiness.services import score_school
from schools.pillars import Pillar


def test_score_is_the_way_from_floor_to_target_capped():
    assert score(0.5, 1.0) == 50.0
    assert score(1.3, 1.0) == 100.0
    assert score(-1, 1.0) == 0.0
    assert score(3.0, 4.0, floor=1.0) == pytest.approx(66.7)
    assert score(None, 1.0) is None


def test_a_pillar_is_the_weighted_mean_of_indicators_with_evidence():
    assert weighted_mean([(100, 3), (0, 1), (None, 5)]) == 75.0
    assert weighted_mean([(None, 1), (None, 2)]) is None
    assert weighted_mean([]) is None


def test_overall_is_the_mean_of_pillars_with_evidence_and_none_without():
    assert overall({"a": 80, "b": None, "c": 40}) == 60.0
    assert overall(dict.fromkeys(Pillar.values)) is None


class _School:
    pk = 1


def _targets():
    return {k: (s.target, s.weight) for k, s in REGISTRY.items()}


def test_no_evidence_is_left_out_never_a_zero():
    readings = {k: Reading(None) for k in REGISTRY}
    readings["device_coverage"] = Reading(1.0, 10)
    result = score_school(_School(), readings, _targets())
    assert result.pillars[Pillar.SPACES] == 100.0
    assert result.pillars[Pillar.PROFESSIONAL_LEARNING] is None
    assert result.overall == 100.0
    nothing = score_school(_School(), {k: Reading(None) for k in REGISTRY}, _targets())
    assert nothing.overall is None and set(nothing.pillars) == set(Pillar.values)


values = st.one_of(st.none(), st.floats(min_value=-10, max_value=100, allow_nan=False))


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(values, min_size=len(REGISTRY), max_size=len(REGISTRY)),
    targets=st.lists(
        st.floats(min_value=0.01, max_value=50), min_size=len(REGISTRY), max_size=len(REGISTRY)
    ),
    weights=st.lists(
        st.floats(min_value=0, max_value=10), min_size=len(REGISTRY), max_size=len(REGISTRY)
    ),
    seed=st.integers(),
)
def test_scores_stay_within_0_100_and_do_not_depend_on_order(values, targets, weights, seed):
    keys = list(REGISTRY)
    readings = {k: Reading(v, 1) for k, v in zip(keys, values, strict=True)}
    chosen = {
        k: (max(t, REGISTRY[k].floor + 0.01), w)
        for k, t, w in zip(keys, targets, weights, strict=True)
    }
    first = score_school(_School(), readings, chosen)
    shuffled = list(readings.items())
    random.Random(seed).shuffle(shuffled)
    second = score_school(_School(), dict(shuffled), dict(reversed(list(chosen.items()))))
    assert first.pillars == second.pillars and first.overall == second.overall
    assert first.fingerprint == second.fingerprint
    for s in [*first.pillars.values(), first.overall, *(i.score for i in first.indicators)]:
        assert s is None or 0 <= s <= 100


@settings(max_examples=200, deadline=None)
@given(pairs=st.lists(st.tuples(values, st.floats(min_value=0, max_value=10))), seed=st.integers())
def test_the_weighted_mean_does_not_depend_on_row_order(pairs, seed):
    scored = [(None if v is None else min(100, max(0, v)), w) for v, w in pairs]
    shuffled = scored[:]
    random.Random(seed).shuffle(shuffled)
    assert weighted_mean(scored) == weighted_mean(shuffled)
