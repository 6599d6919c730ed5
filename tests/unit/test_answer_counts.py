"""The progress counts /tinhhinh's at-risk list reads: computed from the answers, and read again only when an
agency's submission revision has moved."""

from __future__ import annotations

import random

from conversations.progress import AnswerCounts, counted
from rubrics.bundled import bundled
from rubrics.sample_answers import sample_answers
from storage.agencies import AgencyState
from storage.records import IN_PROGRESS, NOT_STARTED

XA = bundled()["qn2018-xa"]


def test_counts_are_read_once_per_revision_and_never_for_an_agency_not_started():
    answers = sample_answers(XA, random.Random(3))
    half = sample_answers(XA, random.Random(3), completeness=0.5)
    stored = {1: half, 2: {}}
    loaded: list[set[int]] = []

    def load(rubric_of):
        loaded.append(set(rubric_of))
        return {agency_id: stored[agency_id] for agency_id in rubric_of}

    counts = AnswerCounts()
    rows = [AgencyState(1, "Xã A", "xa", None, IN_PROGRESS, 4), AgencyState(2, "Xã B", "xa", None, NOT_STARTED, 0)]
    rubric_of = {1: XA, 2: XA}
    first = counts.of(rows, rubric_of, load)
    assert first == counted(rubric_of, stored)
    assert first[1][0] > 0 and first[2][0] == 0
    assert loaded == [{1}]  # the agency not started has no answers to read
    assert counts.of(rows, rubric_of, load) == first and loaded == [{1}]  # nothing moved: nothing read

    stored[1] = answers
    moved = [AgencyState(1, "Xã A", "xa", None, IN_PROGRESS, 5), rows[1]]
    after = counts.of(moved, rubric_of, load)
    assert loaded == [{1}, {1}]
    assert after[1] == counted({1: XA}, {1: answers})[1] and after[1][0] > first[1][0]
