"""The minor classes' conditions and time limits, the responsibility manual, and the category
tree over HTTP (spec 5.1.8.4 大小类设置, 5.1.8.7.3 小类计时)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Count, Q
from django.test import Client

from accounts.demo import build_demo_organization
from accounts.models import Department, Person
from cases.categories import (
    DEMO_DEPARTMENTS,
    load_case_defaults,
    load_demo_manual,
    recommended_department,
    time_limit,
)
from cases.models import Condition, ManualEntry, TimeLimit
from data.models import Category
from tests import factories

pytestmark = pytest.mark.django_db

HOURS = "working_hours"


def minor(kind: str, code: str) -> Category:
    return Category.objects.get(kind=kind, code=code)


def condition(category: Category, kind: str = "register", code: str = "01") -> Condition:
    return Condition.objects.get(category=category, kind=kind, code=code)


def department(code: str, **kw) -> Department:
    return Department.objects.create(code=code, name=f"部门{code}", kind="handling", **kw)


def signed_in(username: str = "dispatcher") -> Client:
    client = Client()
    client.force_login(Person.objects.get(user__username=username).user)
    return client


# --- defaults ---------------------------------------------------------------------------------


def test_every_minor_class_has_conditions_and_limits_after_migrate():
    minors = Category.objects.filter(parent__isnull=False).annotate(
        registers=Count("conditions", filter=Q(conditions__kind="register")),
        closures=Count("conditions", filter=Q(conditions__kind="close")),
    )
    assert minors.count() > 80
    assert [c for c in minors if not (1 <= c.registers <= 3 and c.closures >= 1)] == []
    registers = Condition.objects.filter(kind="register").annotate(rows=Count("limits"))
    assert {c.rows for c in registers} == {12}  # (any, core, general, outer) × (any, 2 levels)
    assert not TimeLimit.objects.filter(condition__kind="close").exists()


def test_loading_the_defaults_again_adds_nothing_and_keeps_edits():
    before = (Condition.objects.count(), TimeLimit.objects.count())
    assert load_case_defaults() == {"conditions": 0, "limits": 0}
    assert (Condition.objects.count(), TimeLimit.objects.count()) == before

    cover = condition(minor("component", "0101"))
    cover.text = "井盖丢失"
    cover.save()
    cover.limits.filter(zone="outer").update(amount=99)
    Condition.objects.filter(category=minor("event", "0601")).delete()
    assert load_case_defaults() == {"conditions": 2, "limits": 12}
    assert (Condition.objects.count(), TimeLimit.objects.count()) == before
    assert condition(minor("component", "0101")).text == "井盖丢失"
    assert time_limit(cover, "outer", "routine") == (Decimal(99), HOURS)
    assert condition(minor("event", "0601")).text == "其他影响市容环境或城市运行的问题"


def test_default_limits_follow_the_zone_and_level_rule():
    gas_cover = condition(minor("component", "0109"))  # 燃气井盖, class limit 2 h
    assert time_limit(gas_cover, "core", "routine") == (Decimal("1.5"), HOURS)
    assert time_limit(gas_cover, "general", "general") == (Decimal(2), HOURS)
    assert time_limit(gas_cover, "outer", "routine") == (Decimal(3), HOURS)
    assert time_limit(gas_cover, "outer", "major") == (Decimal("1.5"), HOURS)
    assert time_limit(gas_cover, "core", "serious") == (Decimal(1), HOURS)  # 0.75 rounded up
    assert time_limit(gas_cover, "", "routine") == (Decimal(2), HOURS)  # outside every zone
    assert time_limit(gas_cover, "", "serious") == (Decimal(1), HOURS)
    gas_pipe = condition(minor("event", "0403"))  # 燃气管道破裂, 1 h
    assert time_limit(gas_pipe, "core", "major") == (Decimal("0.5"), HOURS)


# --- look-ups ---------------------------------------------------------------------------------


def test_the_most_specific_time_limit_wins():
    rule = Condition.objects.create(
        category=minor("event", "0601"), kind="register", code="T1", text="测试"
    )
    for zone, level, amount in [("", "", 10), ("core", "", 8), ("", "major", 6)]:
        TimeLimit.objects.create(condition=rule, zone=zone, level=level, amount=amount)
    TimeLimit.objects.create(
        condition=rule, zone="core", level="major", amount=4, unit="natural_days"
    )
    TimeLimit.objects.create(condition=rule, stage="to_check", amount=3)

    assert time_limit(rule, "core", "major") == (Decimal(4), "natural_days")
    assert time_limit(rule, "core", "routine") == (Decimal(8), HOURS)
    assert time_limit(rule, "outer", "major") == (Decimal(6), HOURS)
    assert time_limit(rule, "outer", "routine") == (Decimal(10), HOURS)
    assert time_limit(rule, "outer", "routine", stage="to_check") == (Decimal(3), HOURS)
    assert time_limit(rule, "core", "major", stage="to_dispatch") is None

    prefetched = Condition.objects.prefetch_related("limits").get(pk=rule.pk)
    assert time_limit(prefetched, "core", "routine") == (Decimal(8), HOURS)

    rule.limits.filter(zone="", level="").delete()
    assert time_limit(rule, "outer", "routine") is None
    assert time_limit(rule, "outer", "major") == (Decimal(6), HOURS)


def test_the_most_specific_manual_entry_is_recommended():
    city = factories.make_city("990500", origin=(101.0, 31.0))
    district, street = city.district, city.streets[0]
    community, elsewhere = city.communities[0], city.communities[1]
    cover = minor("component", "0101")
    ManualEntry.objects.filter(category=cover).delete()
    assert recommended_department(cover, [district.code]) is None

    by_area = {None: "M-city", district: "M-district", street: "M-street", community: "M-comm"}
    for area, code in by_area.items():
        ManualEntry.objects.create(category=cover, area=area, department=department(code))
    codes = [district.code, street.code, community.code]

    def recommended(area_codes: list[str]) -> str | None:
        entry = recommended_department(cover, area_codes)
        return entry and entry.department.code

    assert recommended(codes) == "M-comm"
    assert recommended(list(reversed(codes))) == "M-comm"
    assert recommended([district.code, street.code, elsewhere.code]) == "M-street"
    assert recommended([district.code, city.streets[1].code, elsewhere.code]) == "M-district"
    assert recommended(["110108", "", "110108001001"]) == "M-city"
    assert recommended([]) == "M-city"
    Department.objects.filter(code="M-comm").update(active=False)
    assert recommended(codes) == "M-street"
    assert recommended_department(minor("component", "0102"), codes) is None


def test_the_demo_manual_hands_each_minor_class_to_its_department():
    minors = Category.objects.filter(parent__isnull=False)
    ManualEntry.objects.all().delete()
    Department.objects.filter(code__startswith="H-").delete()
    assert load_demo_manual() == {"created": 0, "existing": 0, "skipped": minors.count()}

    build_demo_organization()
    assert load_demo_manual() == {"created": minors.count(), "existing": 0, "skipped": 0}
    assert load_demo_manual() == {"created": 0, "existing": minors.count(), "skipped": 0}
    for category in minors:
        entry = recommended_department(category, [])
        assert entry.department.code == f"H-{DEMO_DEPARTMENTS[category.default_department]}"
        assert entry.limit_amount == category.handling_limit_hours
    cover = recommended_department(minor("component", "0101"), [])
    assert cover.department.name == "水务局" and cover.limit_unit == HOURS
    assert (
        cover.standard
        == "接到派遣后4个工作时内处置完毕，达到结案条件：井盖已更换或复位，周边无安全隐患。"
    )


# --- the API ----------------------------------------------------------------------------------


@pytest.fixture
def demo() -> None:
    build_demo_organization()
    load_demo_manual()


def test_the_tree_is_for_signed_in_callers_only(demo):
    response = Client().get("/api/v1/categories")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_the_tree_lists_classes_with_conditions_limits_and_manual(
    demo, django_assert_max_num_queries
):
    client = signed_in()
    # The session, user and scope (3, cold), then classes, conditions, limits and manual (4).
    with django_assert_max_num_queries(7):
        response = client.get("/api/v1/categories")
    assert response.status_code == 200
    tree = response.json()["categories"]
    assert [(m["kind"], m["code"]) for m in tree][:2] == [("component", "01"), ("component", "02")]
    assert {m["kind"] for m in tree} == {"component", "event"}
    assert (
        sum(len(m["children"]) for m in tree)
        == Category.objects.filter(parent__isnull=False).count()
    )
    utilities = tree[0]
    assert utilities["name"] == "公用设施"
    cover = utilities["children"][0]
    assert {k: cover[k] for k in ("code", "name", "kind", "default_department")} == {
        "code": "0101",
        "name": "上水井盖",
        "kind": "component",
        "default_department": "水务",
    }
    assert cover["handling_limit_hours"] == 4
    first = cover["register_conditions"][0]
    assert (first["code"], first["text"]) == ("01", "井盖破损、缺失或移位")
    assert {"stage": "handling", "zone": "core", "level": "", "amount": 3, "unit": HOURS} in (
        first["limits"]
    )
    assert cover["close_conditions"] == [
        {
            "id": condition(minor("component", "0101"), "close").pk,
            "code": "01",
            "text": "井盖已更换或复位，周边无安全隐患",
        }
    ]
    assert cover["manual"]["department"] == {"code": "H-shuiwu", "name": "水务局"}
    assert (cover["manual"]["limit_amount"], cover["manual"]["limit_unit"]) == (4, HOURS)


def test_inactive_conditions_are_left_out_and_the_query_count_stays_flat(
    demo, django_assert_max_num_queries
):
    Condition.objects.filter(category__code="0101", kind="register", code="02").update(active=False)
    client = signed_in()
    with django_assert_max_num_queries(7):
        tree = client.get("/api/v1/categories?kind=component").json()["categories"]
    cover = tree[0]["children"][0]
    assert [c["code"] for c in cover["register_conditions"]] == ["01"]


def test_the_tree_of_one_kind(demo):
    client = signed_in()
    tree = client.get("/api/v1/categories?kind=event").json()["categories"]
    assert {m["kind"] for m in tree} == {"event"}
    assert tree[0]["children"][0]["name"] == "私搭乱建"
    assert tree[0]["children"][0]["manual"]["department"]["code"] == "H-chengguan"


@pytest.mark.parametrize("query", ["kind=bogus", "kind=", "kind=Event"])
def test_a_bad_kind_is_bad_input(demo, query):
    response = signed_in().get(f"/api/v1/categories?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["field"]) == ("bad_input", "kind")
