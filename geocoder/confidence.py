"""How sure a forward answer is (置信度, 0–1): the share of answers like it that were right on
the evaluation set, so a caller can threshold it (0.8 and above: right at least 95% of the
time on that set).

The evidence is the candidate's score (name similarity × match level × area and unused-token
factors), lowered when another candidate at a different place scores nearly as well (two
places answer the text equally) or when part of the text was not understood. It is mapped
to a confidence by a monotone table per kind of name match: exact (every name read as
written, nothing left unread) or fuzzy (a typo, homophone or pinyin guess, or text left
unread). 龙吴路 read as 龙门路 is as close as a real typo of 龙门路, so a short fuzzy name
stays well below 0.8; a long name with one wrong character (a compound, an organization) is
still almost always right. The tables are fitted by `bench/geocode_eval.py --fit` (share right
per evidence bin made monotone, a step per bin; a bin right less than 95% of the time is held
at 0.79) and written below with the run that gave them.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

AMBIGUOUS = 0.8  # evidence factor when a candidate elsewhere scores ≥ AMBIGUOUS_RATIO × this
AMBIGUOUS_RATIO = 0.9
AMBIGUOUS_M = 30.0  # candidates closer than this are the same place
UNEXPLAINED = 0.9  # evidence factor when text was left unexplained (residue)

# (evidence, confidence) knots, linear in between: `bench/geocode_eval.py --per 400 --fit` on
# the demo city seed 1 scale 1, eval seed 7 (30,239 items), 2026-11-29 (bench/README.md).
CALIBRATION: dict[bool, Sequence[tuple[float, float]]] = {
    True: ((0.0, 0.0), (0.8, 0.79), (0.8245, 0.79), (0.85, 0.994), (0.97, 1.0), (1.0, 1.0)),
    False: (
        (0.0, 0.0),
        (0.3205, 0.267),
        (0.5334, 0.267),
        (0.54, 0.788),
        (0.6, 0.788),
        (0.62, 0.79),
        (0.7, 0.79),
        (0.7544, 0.79),
        (0.7621, 0.969),
        (0.8, 0.969),
        (0.8333, 0.994),
        (0.8488, 0.998),
        (0.9167, 0.998),
        (0.9215, 1.0),
        (0.9375, 1.0),
        (0.9444, 1.0),
        (0.9583, 1.0),
        (1.0, 1.0),
    ),
}


def confidence(evidence: float, exact: bool) -> float:
    """Gives the calibrated confidence of a candidate with this evidence (0–1)."""
    knots = CALIBRATION[exact]
    xs = [x for x, _ in knots]
    i = bisect.bisect_right(xs, evidence)
    if i == 0:
        return knots[0][1]
    if i >= len(knots):
        return knots[-1][1]
    (x0, c0), (x1, c1) = knots[i - 1], knots[i]
    share = (evidence - x0) / (x1 - x0) if x1 > x0 else 1.0
    return round(c0 + share * (c1 - c0), 3)
