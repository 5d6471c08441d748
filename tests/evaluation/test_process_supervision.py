"""Process supervision over HTTP (/api/v1/supervision/…) on the hand-counted scenario of
test_screen_stats: stage counts from the workflow definitions, overdue first, a case's steps
with handler, department, start, end and opinion, photos before and after, scope and bad
input."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from cases.models import Case
from tests.evaluation import test_screen_stats as stats_tests

pytestmark = pytest.mark.django_db
org, as_user, two_streets = stats_tests.org, stats_tests.as_user, stats_tests.two_streets
scenario = stats_tests.scenario
get = stats_tests.get


def test_stages_count_the_cases_waiting_in_each(scenario, as_user):
    Case.objects.filter(pk=scenario["y1"]).update(deadline_state="warning")
    stages = get(as_user("leader"), "/api/v1/supervision/stages?period=all")["stages"]
    counts = {s["state"]: (s["count"], s["overdue"], s["warning"]) for s in stages if s["count"]}
    assert counts == {
        "reported": (1, 0, 0),
        "to_verify": (1, 0, 0),
        "to_register": (2, 0, 1),
        "to_dispatch": (1, 0, 0),
        "handling": (1, 1, 0),
    }
    names = [s["state"] for s in stages]
    assert names.index("reported") < names.index("handling") < names.index("to_close")
    assert names[-1] == "closed"
    mine = get(as_user(f"inspector-{scenario['b'].code}"), "/api/v1/supervision/stages?period=all")
    assert {s["state"]: s["count"] for s in mine["stages"] if s["count"]} == {"to_dispatch": 1}


def test_a_stage_lists_the_late_first_and_filters(scenario, as_user):
    Case.objects.filter(pk=scenario["y1"]).update(deadline_state="overdue")
    leader = as_user("leader")
    found = get(leader, "/api/v1/supervision/cases?period=all&state=to_register")
    assert [c["id"] for c in found["cases"]] == [scenario["y1"], scenario["a4"]]
    number = Case.objects.get(pk=scenario["a4"]).number
    one = get(leader, f"/api/v1/supervision/cases?period=all&state=to_register&number={number}")
    assert [c["id"] for c in one["cases"]] == [scenario["a4"]]
    this_year = "period=custom&from=2026-01-01&to=2026-12-31"
    recent = get(leader, f"/api/v1/supervision/cases?{this_year}&state=to_register")
    assert [c["id"] for c in recent["cases"]] == [scenario["a4"]]
    by_acceptor = get(
        leader, "/api/v1/supervision/cases?period=all&state=to_register&reporter=acceptor"
    )
    assert by_acceptor["count"] == 2
    nobody = get(leader, "/api/v1/supervision/cases?period=all&state=to_register&reporter=nobody")
    assert nobody["count"] == 0
    area = scenario["b"].code
    in_b = get(leader, f"/api/v1/supervision/cases?period=all&state=to_register&area={area}")
    assert in_b["count"] == 0


def png() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(data, format="PNG")
    data.seek(0)
    data.name = "scene.png"
    return data


def test_steps_of_a_case_and_its_photos_before_and_after(scenario, as_user):
    a1 = scenario["a1"]
    uploaded = as_user("dept-huanwei").post(f"/api/v1/cases/{a1}/media", {"file": png()})
    assert uploaded.status_code == 201, uploaded.content
    answer = get(as_user("leader"), f"/api/v1/supervision/cases/{a1}/steps")
    rows = [
        (s["stage"], s["handler"], s["department"], s["start"][:16], (s["end"] or "")[:16])
        for s in answer["steps"]
    ]
    assert rows == [
        ("reported", "acceptor", rows[0][2], "2026-03-10T09:30", "2026-03-10T09:40"),
        ("to_register", "shiftleader", rows[1][2], "2026-03-10T09:40", "2026-03-10T10:00"),
        ("to_dispatch", "dispatcher", rows[2][2], "2026-03-10T10:00", "2026-03-10T10:10"),
        ("handling", None, "环境卫生服务中心", "2026-03-10T10:10", ""),
    ]
    assert answer["before"] == []
    assert [p["stage"] for p in answer["after"]] == ["handling"]
    assert answer["after"][0]["url"].startswith(f"/api/v1/cases/{a1}/media/")
    # The list's thumbnail is the report photo: a1 has none.
    listed = get(as_user("leader"), "/api/v1/supervision/cases?period=all&state=handling")
    assert listed["cases"][0]["thumbnail"] is None


def test_steps_outside_the_scope_are_not_found(scenario, as_user):
    other = as_user(f"inspector-{scenario['b'].code}")
    assert other.get(f"/api/v1/supervision/cases/{scenario['a1']}/steps").status_code == 404
    assert other.get("/api/v1/supervision/cases/999999999/steps").status_code == 404


@pytest.mark.parametrize(
    "query, field",
    [("", "state"), ("state=nowhere", "state"), ("state=handling&offset=-1", "offset")],
)
def test_bad_list_input_names_its_field(org, as_user, query, field):
    answer = as_user("leader").get(f"/api/v1/supervision/cases?{query}")
    assert answer.status_code == 400 and answer.json()["error"]["field"] == field


def test_list_thumbnails_are_small_jpegs_of_the_report_photo(scenario, as_user):
    a3 = scenario["a3"]  # reported: the acceptor attaches its report photo
    big = io.BytesIO()
    Image.new("RGB", (1600, 1200), (30, 120, 200)).save(big, format="PNG")
    big.seek(0)
    big.name = "big.png"
    uploaded = as_user("acceptor").post(f"/api/v1/cases/{a3}/media", {"file": big})
    assert uploaded.status_code == 201, uploaded.content
    listed = get(as_user("leader"), "/api/v1/supervision/cases?period=all&state=reported")
    assert [c["id"] for c in listed["cases"]] == [a3]
    url = listed["cases"][0]["thumbnail"]
    assert url == f"/api/v1/screen/cases/{a3}/media/{uploaded.json()['id']}/thumbnail"
    for attempt in range(2):  # made, then read from its file
        answer = as_user("leader").get(url)
        assert answer.status_code == 200 and answer["Content-Type"] == "image/jpeg"
        picture = Image.open(io.BytesIO(answer.content))
        assert picture.size == (240, 180)
    other = as_user(f"inspector-{scenario['b'].code}")
    assert other.get(url).status_code == 404
    missing = f"/api/v1/screen/cases/{a3}/media/999999/thumbnail"
    assert as_user("leader").get(missing).status_code == 404


def test_the_pages_are_for_those_who_read_cases(org, client, as_user):
    from tests.factories import make_person

    for path, title in (("/screen", "运行监督大屏"), ("/supervision", "流程监督")):
        assert client.get(path).status_code == 302  # anonymous: to the sign-in page
        page = as_user("leader").get(path)
        assert page.status_code == 200 and title in page.content.decode()
        assert ":" in page["Content-Security-Policy"].split("connect-src 'self' ")[1]
        nobody = make_person(f"nobody{len(path)}", permissions=[])
        client.force_login(nobody.user)
        refused = client.get(path)
        assert refused.status_code == 403 and "查看案件" in refused.content.decode()
        client.logout()
