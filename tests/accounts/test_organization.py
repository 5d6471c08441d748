"""The organization through the API: departments, positions, people, roles, permissions."""

from __future__ import annotations

import json

from spatial.models import Layer
from tests.accounts.conftest import signed_in
from accounts.models import Person
from accounts.scoping import scope_for_user


def post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def test_department_tree(manager):
    client = signed_in(manager)
    centre = post(
        client, "/api/v1/departments", {"code": "C", "name": "指挥中心", "kind": "command_centre"}
    ).json()
    child = post(
        client,
        "/api/v1/departments",
        {
            "code": "C-SZ",
            "name": "市政",
            "kind": "handling",
            "parent": centre["id"],
            "phone": "010-12345678",
        },
    )
    assert child.status_code == 201, child.content
    # A department cannot become its own ancestor.
    loop = client.patch(
        f"/api/v1/departments/{centre['id']}",
        {"parent": child.json()["id"]},
        content_type="application/json",
    )
    assert loop.status_code == 400 and loop.json()["error"]["field"] == "parent"
    # A department with children cannot be deleted.
    assert client.delete(f"/api/v1/departments/{centre['id']}").status_code == 409
    assert client.delete(f"/api/v1/departments/{child.json()['id']}").status_code == 204
    # A well-formed duplicate or missing reference conflicts with stored data (409).
    duplicate = post(client, "/api/v1/departments", {"code": "C", "name": "again"})
    assert duplicate.status_code == 409


def test_positions_validate_permissions_and_layers(manager):
    client = signed_in(manager)
    bad = post(client, "/api/v1/positions", {"key": "x", "name": "x", "permissions": ["fly"]})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "permissions"
    no_layer = post(client, "/api/v1/positions", {"key": "x", "name": "x", "layers": ["nope"]})
    assert no_layer.status_code == 409
    ok = post(
        client,
        "/api/v1/positions",
        {
            "key": "gis",
            "name": "GIS管理员",
            "permissions": ["layers.import", "styles.edit"],
            "layers": ["components"],
            "menus": ["layers"],
        },
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["layers"] == ["components"]


def test_person_lifecycle_and_effective_permissions(manager, streets):
    client = signed_in(manager)
    post(
        client,
        "/api/v1/positions",
        {"key": "gis", "name": "GIS", "permissions": ["layers.import"], "layers": ["components"]},
    )
    created = post(
        client,
        "/api/v1/people",
        {
            "username": "zhang.san",
            "password": "Zhang-san-2024",
            "name": "张三",
            "positions": ["gis"],
            "admin_areas": [streets["A"].code],
            "work_card_no": "GZ-001",
        },
    )
    assert created.status_code == 201, created.content
    pid = created.json()["id"]
    person = Person.objects.get(pk=pid)
    assert person.area_geom is not None and person.area_digest
    perms = client.get(f"/api/v1/people/{pid}/permissions").json()
    assert perms["permissions"] == [
        {"name": "layers.import", "label": "导入图层", "granted_by": ["gis"]}
    ]
    assert perms["layers"] == [{"key": "components", "granted_by": ["gis"]}]
    moved = client.patch(
        f"/api/v1/people/{pid}",
        {"admin_areas": [streets["B"].code]},
        content_type="application/json",
    )
    assert moved.status_code == 200
    person.refresh_from_db()
    assert person.area_geom.contains(streets["B"].geom.point_on_surface)
    assert client.get("/api/v1/people?limit=1").json()["count"] >= 2
    assert client.delete(f"/api/v1/people/{pid}").status_code == 204
    assert client.get(f"/api/v1/people/{pid}/permissions").status_code == 404


def test_people_see_their_own_permissions_only(manager, inspector_a, inspector_b):
    own = signed_in(inspector_a).get(f"/api/v1/people/{inspector_a.pk}/permissions")
    assert own.status_code == 200 and own.json()["username"] == "inspector-a"
    other = signed_in(inspector_a).get(f"/api/v1/people/{inspector_b.pk}/permissions")
    assert other.status_code == 403
    missing = signed_in(inspector_a).get("/api/v1/people/999999999/permissions")
    assert missing.status_code == 403


def test_role_applies_positions_and_areas(manager, make_person, streets):
    client = signed_in(manager)
    post(
        client,
        "/api/v1/positions",
        {"key": "inspector", "name": "监督员", "permissions": ["cases.report"], "all_layers": True},
    )
    role = post(
        client,
        "/api/v1/roles",
        {
            "key": "street-a",
            "name": "甲街道监督员",
            "positions": ["inspector"],
            "admin_areas": [streets["A"].code],
        },
    ).json()
    people = [make_person(f"new-{i}", [], []) for i in range(3)]
    applied = post(client, f"/api/v1/roles/{role['id']}/apply", {"people": [p.pk for p in people]})
    assert applied.status_code == 200, applied.content
    components = Layer.objects.get(key="components")
    for person in people:
        scope = scope_for_user(person.user)
        assert scope.has_perm("cases.report") and scope.can_read_layer(components)
        assert scope.has_area
    empty = post(client, f"/api/v1/roles/{role['id']}/apply", {"people": []})
    assert empty.status_code == 400
    unknown = post(client, f"/api/v1/roles/{role['id']}/apply", {"people": [999999999]})
    assert unknown.status_code == 409


def test_me_for_user_without_person(client, django_user_model):
    user = django_user_model.objects.create_user("bare", password="Bare-user-123")
    client.force_login(user)
    body = client.get("/api/v1/me").json()
    assert body["id"] is None and body["permissions"] == [] and body["area"] is None


def test_bad_person_input(manager):
    client = signed_in(manager)
    for body in (
        {},
        {"username": ""},
        {"username": "a b/c"},
        {"username": "x" * 200},
        {"username": "ok", "positions": "notalist"},
        {"username": "ok", "department": "abc"},
    ):
        response = post(client, "/api/v1/people", body)
        assert response.status_code == 400, (body, response.content)
    # Well-formed, but naming an area that does not exist or a username that is taken.
    unknown = post(client, "/api/v1/people", {"username": "ok", "admin_areas": ["000"]})
    assert unknown.status_code == 409 and unknown.json()["error"]["field"] == "admin_areas"
    taken = post(client, "/api/v1/people", {"username": "manager"})
    assert taken.status_code == 409 and taken.json()["error"]["field"] == "username"
