"""The demo organization and the refusal to serve demo users with DEBUG off."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import Client

from accounts.checks import is_serving, refuse_demo_users_if_serving
from accounts.demo import DEMO_PASSWORD
from accounts.models import Person
from accounts.scoping import scope_for_user


def run(*args) -> str:
    out = StringIO()
    call_command("demo_accounts", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_demo_accounts_is_idempotent_and_complete(streets):
    run()
    first = set(Person.objects.values_list("user__username", flat=True))
    printed = run("--print")
    assert set(Person.objects.values_list("user__username", flat=True)) == first
    expected = {
        "admin",
        "gisadmin",
        "acceptor",
        "leader",
        "dispatcher",
        "evaluator",
        "shiftleader",
        "dept-shizheng",
        "dept-yuanlin",
        "dept-huanwei",
        f"inspector-{streets['A'].code}",
        f"inspector-{streets['B'].code}",
    }
    assert expected <= first
    for name in expected:
        assert name in printed
    assert DEMO_PASSWORD in printed


def test_demo_users_sign_in_and_have_their_powers(streets, client):
    run()
    for username in ("admin", "gisadmin", f"inspector-{streets['A'].code}"):
        response = client.post(
            "/api/v1/auth/token",
            {"username": username, "password": DEMO_PASSWORD},
            content_type="application/json",
        )
        assert response.status_code == 200, (username, response.content)
    inspector = Person.objects.get(user__username=f"inspector-{streets['A'].code}")
    assert list(inspector.admin_areas.all()) == [streets["A"]]
    assert inspector.department.area == streets["A"]
    assert scope_for_user(Person.objects.get(user__username="admin").user).sees_everything
    gis = scope_for_user(Person.objects.get(user__username="gisadmin").user)
    assert gis.has_perm("layers.import") and not gis.has_perm("people.manage")
    dispatcher = scope_for_user(Person.objects.get(user__username="dispatcher").user)
    assert not dispatcher.has_perm("layers.import")


def test_server_refuses_demo_users_without_debug(streets, settings):
    run()
    settings.DEBUG, settings.ALLOW_DEMO_USERS = False, False
    assert is_serving(["/venv/bin/gunicorn", "web.wsgi:application"])
    assert is_serving(["manage.py", "runserver"])
    assert not is_serving(["manage.py", "migrate"])
    with pytest.raises(ImproperlyConfigured):
        refuse_demo_users_if_serving(["/venv/bin/gunicorn", "web.wsgi"])
    refuse_demo_users_if_serving(["manage.py", "migrate"])  # commands still run
    settings.ALLOW_DEMO_USERS = True
    refuse_demo_users_if_serving(["gunicorn"])
    settings.ALLOW_DEMO_USERS, settings.DEBUG = False, True
    refuse_demo_users_if_serving(["gunicorn"])
    settings.DEBUG = False
    Person.objects.filter(demo=True).delete()
    refuse_demo_users_if_serving(["gunicorn"])
    assert Client().get("/api/v1/me").status_code == 401
