"""The responsibility manual by area (事项指挥手册) through the API: one class's citywide and
per-area departments with the areas' shapes, an area's own entry set and dropped (the place's
recommended department follows), the refusals, and the whole manual as a spreadsheet."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from openpyxl import load_workbook

from accounts import permissions as perms
from accounts.models import Department
from cases.categories import load_demo_manual, recommended_department
from cases.models import ManualEntry
from data.models import Category
from spatial.models import AdminArea
from tests import factories


@pytest.fixture
def manual(city, db):
    from accounts.demo import build_demo_organization

    build_demo_organization()  # the departments the demo manual names
    load_demo_manual()
    assert ManualEntry.objects.filter(
        category__kind="event", category__code="0102", area__isnull=True
    ).exists()
    return Category.objects.get(kind="event", code="0102", parent__isnull=False)


@pytest.fixture
def editor() -> Client:
    client = Client()
    client.force_login(factories.make_person("manual-editor", permissions=[perms.CONFIG_EDIT]).user)
    return client


def put(client, path, body):
    return client.put(path, json.dumps(body), content_type="application/json")


def test_an_areas_own_entry_is_mapped_and_wins_there(manual, editor):
    street = AdminArea.objects.filter(level="street").order_by("code").first()
    citywide = ManualEntry.objects.get(category=manual, area__isnull=True).department
    other = Department.objects.filter(active=True, kind="handling").exclude(pk=citywide.pk).first()
    assert other is not None
    before = editor.get("/api/v1/manual", {"kind": "event", "category": "0102"}).json()
    assert before["citywide"]["code"] == citywide.code
    assert before["areas"]["features"] == []
    assert other.code in [d["code"] for d in before["departments"]]

    answer = put(
        editor,
        f"/api/v1/manual/event/0102/{street.code}",
        {"department": other.code, "standard": "两小时内清理"},
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["department"]["code"] == other.code
    after = editor.get("/api/v1/manual", {"kind": "event", "category": "0102"}).json()
    (feature,) = after["areas"]["features"]
    assert feature["properties"]["area"] == street.code
    assert feature["properties"]["department"] == other.code
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    community = AdminArea.objects.filter(parent=street).first()
    here = [street.parent.code, street.code, community.code]
    assert recommended_department(manual, here).department == other
    elsewhere = AdminArea.objects.filter(level="street").exclude(pk=street.pk).first()
    assert recommended_department(manual, [elsewhere.code]).department == citywide

    assert editor.delete(f"/api/v1/manual/event/0102/{street.code}").status_code == 204
    assert recommended_department(manual, here).department == citywide


def test_refusals_name_their_field_and_change_nothing(manual, editor):
    count = ManualEntry.objects.count()
    street = AdminArea.objects.filter(level="street").first()
    bad = put(editor, f"/api/v1/manual/event/0102/{street.code}", {"department": "no-such"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "department"
    nowhere = put(editor, "/api/v1/manual/event/0102/999999999", {"department": "x"})
    assert nowhere.status_code in (400, 404)
    major = put(editor, f"/api/v1/manual/event/01/{street.code}", {"department": "x"})
    assert major.status_code == 404 and major.json()["error"]["field"] == "category"
    assert editor.delete("/api/v1/manual/event/0102/city").json()["error"]["field"] == "area"
    reader = Client()
    reader.force_login(factories.make_person("manual-reader", permissions=[perms.CASES_READ]).user)
    citywide = ManualEntry.objects.get(category=manual, area__isnull=True).department
    assert (
        put(reader, "/api/v1/manual/event/0102/city", {"department": citywide.code}).status_code
        == 403
    )
    assert ManualEntry.objects.count() == count
    assert Client().get("/api/v1/manual", {"kind": "event", "category": "0102"}).status_code == 401


def test_the_manual_exports_one_row_per_entry(manual, editor):
    answer = editor.get("/api/v1/manual.xlsx")
    assert answer.status_code == 200
    rows = list(load_workbook(io.BytesIO(answer.content)).active.iter_rows(values_only=True))
    assert rows[0][:4] == ("类型", "小类编码", "小类名称", "区域编码")
    assert len(rows) - 1 == ManualEntry.objects.count() > 0
    entry = ManualEntry.objects.select_related("department").get(category=manual, area__isnull=True)
    row = ("事件", "0102", manual.name, None, "全市", entry.department.code)
    assert row in [r[:6] for r in rows]
