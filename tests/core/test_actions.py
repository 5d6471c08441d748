"""Actions: the same permission check and operation log row from HTTP, a Celery task and a
management command."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from accounts.models import OperationLog
from spatial.models import Layer
from tests.factories import PASSWORD, make_person


def _geojson(tmp_path, name="pts.geojson"):
    path = tmp_path / name
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"点{i}"},
            "geometry": {"type": "Point", "coordinates": [116.3 + i / 1000, 39.99]},
        }
        for i in range(3)
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.mark.django_db
def test_command_acts_as_the_system_or_as_a_person_and_is_logged(tmp_path):
    make_person("viewer", permissions=["cases.read"])
    assert not OperationLog.objects.exists()

    call_command("load_layer", str(_geojson(tmp_path)), "--key", "cmd-pts", "--sync", verbosity=0)
    assert Layer.objects.filter(key="cmd-pts").exists()
    ok = OperationLog.objects.get(action="layers.import", outcome="success")
    assert (ok.username, ok.via, ok.status, ok.target) == (
        "system:command:load_layer",
        "command",
        200,
        "cmd-pts",
    )

    with pytest.raises(CommandError, match="layers.import"):
        call_command(
            "load_layer",
            str(_geojson(tmp_path, "other.geojson")),
            "--key",
            "cmd-refused",
            "--user",
            "viewer",
            "--sync",
            verbosity=0,
        )
    assert not Layer.objects.filter(key="cmd-refused").exists()
    refused = OperationLog.objects.get(action="layers.import", outcome="failure")
    assert (refused.username, refused.via, refused.status) == ("viewer", "command", 403)
    assert "layers.import" in refused.message


@pytest.mark.django_db
def test_http_refusal_and_success_log_the_same_verb():
    make_person("editor", permissions=["layers.edit"], all_layers=True)
    make_person("viewer", permissions=["cases.read"])
    layer = Layer.objects.get(key="components")
    for username, status in (("viewer", 403), ("editor", 200)):
        client = Client()
        assert client.login(username=username, password=PASSWORD)
        response = client.patch(
            "/api/v1/layers/components", {"title": "部件"}, content_type="application/json"
        )
        assert response.status_code == status, response.content
    rows = list(
        OperationLog.objects.filter(action="layers.edit")
        .order_by("id")
        .values_list("username", "via", "status", "outcome", "target")
    )
    assert rows == [
        ("viewer", "http", 403, "failure", layer.key),
        ("editor", "http", 200, "success", layer.key),
    ]


@pytest.mark.django_db(transaction=True)
def test_celery_task_calls_the_action_as_beat_or_as_a_person(celery_worker):
    from spatial.tasks import refresh_layers

    make_person("viewer", permissions=["cases.read"])
    assert Layer.objects.exclude(kind="raster").exists()

    refused = refresh_layers.delay(username="viewer").get(timeout=60)
    assert refused["refreshed"] == [] and refused["refused"]["code"] == "forbidden"
    row = OperationLog.objects.get(action="layers.refresh", outcome="failure")
    assert (row.username, row.via, row.status) == ("viewer", "task", 403)

    done = refresh_layers.delay().get(timeout=60)
    assert done["refused"] is None and "components" in done["refreshed"]
    logged = OperationLog.objects.filter(action="layers.refresh", outcome="success")
    assert logged.count() == len(done["refreshed"])
    assert set(logged.values_list("username", "via")) == {("system:beat", "task")}
