"""Closed-case quality sampling (案件质检, spec 5.3.7): the three allocation modes by hand and as
properties, and the whole path over HTTP on the hand-counted week — draw, issue to another
department, score with deductions, submit, statistics — with its refusals."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts import permissions as perms
from accounts.models import Person, Position
from evaluation.models import DeductionItem
from evaluation.sampling import allocate
from tests.evaluation.conftest import client_of


def test_the_modes_by_hand():
    counts = {"A": 10, "B": 30, "C": 60}
    assert allocate(counts, 10, "proportional") == {"A": 1, "B": 3, "C": 6}
    # 10 over 3: 3 each and the extra one to the largest.
    assert allocate(counts, 10, "average") == {"A": 3, "B": 3, "C": 4}
    # 4 each; A has 1: its 3 go to the department with the most cases, C.
    assert allocate({"A": 1, "B": 30, "C": 60}, 12, "average") == {"A": 1, "B": 4, "C": 7}
    # 5 each first (A has 3): 13; the other 7 over what is left, 25 and 55 of 80:
    # 2.1875 and 4.8125 → 2 and 4, the last one to the larger remainder (C).
    assert allocate({"A": 3, "B": 30, "C": 60}, 20, "floor", 5) == {"A": 3, "B": 7, "C": 10}
    # Asked for more than there is: everything.
    assert allocate({"A": 2, "B": 1}, 50, "proportional") == {"A": 2, "B": 1}
    # Fewer than the floors: spread evenly.
    assert allocate({"A": 9, "B": 9, "C": 9}, 6, "floor", 5) == {"A": 2, "B": 2, "C": 2}


COUNTS = st.dictionaries(st.sampled_from("ABCDEFGH"), st.integers(0, 500), min_size=1)


@given(COUNTS, st.integers(0, 2000), st.sampled_from(["proportional", "average", "floor"]))
def test_every_mode_draws_what_there_is_and_never_more(counts, total, mode):
    found = allocate(counts, total, mode, 5)
    assert set(found) == set(counts)
    assert sum(found.values()) == min(total, sum(counts.values()))
    assert all(0 <= found[k] <= counts[k] for k in counts)


@given(COUNTS, st.integers(0, 2000))
def test_proportional_shares_are_within_one_of_exact(counts, total):
    whole = sum(counts.values())
    found = allocate(counts, total, "proportional")
    drawn = min(total, whole)
    for k, c in counts.items():
        assert abs(found[k] - (drawn * c / whole if whole else 0)) < 1


@given(COUNTS, st.integers(0, 2000))
def test_average_gives_each_its_equal_share_or_all_it_has(counts, total):
    """What one lacks goes to the largest (the spec's rule), so shares may differ by more than
    one; but nobody gets less than the equal share unless it ran out."""
    found = allocate(counts, total, "average")
    share = min(total, sum(counts.values())) // len(counts)
    assert all(found[k] >= min(share, counts[k]) for k in counts)


@given(COUNTS, st.integers(0, 2000))
def test_floor_gives_each_its_floor_when_the_total_allows(counts, total):
    floors = {k: min(5, c) for k, c in counts.items()}
    found = allocate(counts, total, "floor", 5)
    if total >= sum(floors.values()):
        assert all(found[k] >= floors[k] for k in counts)


def post(client, path, body):
    return client.post(path, json.dumps(body), "application/json")


@pytest.mark.django_db
def test_draw_issue_score_and_statistics_over_http(week):
    for code, name, points in [("not_fixed", "处置不到位", 20), ("photo_unclear", "照片不清晰", 5)]:
        DeductionItem.objects.get_or_create(code=code, defaults={"name": name, "points": points})
    scorer = Position.objects.create(key="qa", name="质检员", permissions=[perms.EVALUATION_SCORE])
    for username in ("dept-shizheng", "dept-huanwei"):
        Person.objects.get(user__username=username).positions.add(scorer)
    evaluator = client_of("evaluator")
    body = {
        "name": "三月第一周质检",
        "from": "2025-03-03T00:00:00+08:00",
        "to": "2025-03-10T00:00:00+08:00",
        "total": 2,
        "mode": "average",
        "departments": ["H-huanwei", "H-shizheng"],
        "seed": "week10",
    }
    made = post(evaluator, "/api/v1/evaluation/samplings", body)
    assert made.status_code == 201, made.content
    task = made.json()
    # 环卫 closed C1 C2 C7 in the week, 市政 none: one each, 市政's one goes to 环卫.
    assert task["drawn"] == {"H-huanwei": 2, "H-shizheng": 0}
    drawn = {c["case"] for c in task["cases"]}
    assert drawn < {week.cases[n] for n in ("C1", "C2", "C7")} and len(drawn) == 2
    again = post(evaluator, "/api/v1/evaluation/samplings", body).json()
    assert {c["case"] for c in again["cases"]} == drawn  # the same seed, the same draw

    assert post(client_of("leader"), "/api/v1/evaluation/samplings", body).status_code == 403
    for bad, field in [({"mode": "random"}, "mode"), ({"total": 0}, "total"),
                       ({"departments": ["H-nobody"]}, "departments"), ({"to": 5}, "to"),
                       ({"from": "2025-03-11T00:00:00+08:00"}, "from")]:  # fmt: skip
        refused = post(evaluator, "/api/v1/evaluation/samplings", {**body, **bad})
        assert refused.status_code == 400 and refused.json()["error"]["field"] == field, bad

    issued = post(evaluator, f"/api/v1/evaluation/samplings/{task['id']}/issue",
                  {"departments": ["H-shizheng", "H-huanwei"]})  # fmt: skip
    assert issued.status_code == 200 and issued.json()["issued_to"] == ["H-huanwei", "H-shizheng"]

    shizheng, huanwei = client_of("dept-shizheng"), client_of("dept-huanwei")
    mine = shizheng.get("/api/v1/evaluation/samplings").json()["samplings"]
    assert [t["id"] for t in mine] == [task["id"]] and len(mine[0]["cases"]) == 2
    # 环卫 does not score its own cases.
    assert huanwei.get("/api/v1/evaluation/samplings").json()["samplings"][0]["cases"] == []
    first = task["cases"][0]["id"]
    score = f"/api/v1/evaluation/sampled-cases/{first}/score"
    assert post(huanwei, score, {"deductions": []}).status_code == 404
    assert post(shizheng, score, {"deductions": ["bogus"]}).json()["error"]["field"] == "deductions"
    draft = post(shizheng, score, {"deductions": ["not_fixed"], "note": "仍有垃圾"})
    assert draft.status_code == 200 and draft.json()["mine"]["score"] == 80.0
    assert draft.json()["scores"] == []  # not submitted yet
    done = post(shizheng, score, {"deductions": ["not_fixed", "photo_unclear"], "submit": True})
    assert done.json()["mine"] == {
        "department": "H-shizheng", "deductions": ["not_fixed", "photo_unclear"],
        "score": 75.0, "note": "", "submitted": True,
    }  # fmt: skip
    assert post(shizheng, score, {"deductions": []}).status_code == 409

    seen = evaluator.get("/api/v1/evaluation/samplings").json()["samplings"]
    stats = next(t for t in seen if t["id"] == task["id"])["statistics"]
    assert stats == [
        {"department": "H-huanwei", "name": stats[0]["name"], "drawn": 2, "scores": 1,
         "mean_score": 75.0, "deductions": {"not_fixed": 1, "photo_unclear": 1}},
    ]  # fmt: skip
    items = evaluator.get("/api/v1/evaluation/deduction-items").json()["items"]
    assert {"code": "not_fixed", "name": "处置不到位", "points": 20.0} in items
