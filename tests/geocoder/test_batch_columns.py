"""Batch geocoding keeps every input column: result columns whose names the input already uses
are written under geocode_<name>."""

import csv
import io
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from geocoder.batch import result_names


def finished_rows(client, job_id: str) -> list[dict]:
    """Gives the result CSV's rows once the batch job has succeeded (fails otherwise)."""
    for _ in range(100):
        body = client.get(f"/api/v1/geocode/batch/{job_id}").json()
        if body["state"] in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    assert body["state"] == "succeeded", body
    result = client.get(body["result_url"])
    text = b"".join(result.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_result_names_step_aside_for_input_columns():
    assert result_names(["id", "地址"])["note"] == "note"
    names = result_names(["id", "address", "note", "lon", "geocode_lon"])
    assert (names["note"], names["lon"], names["lat"]) == ("geocode_note", "geocode_lon_2", "lat")
    assert len(set(names.values())) == len(names)


@pytest.mark.django_db(transaction=True)
def test_an_input_column_named_note_survives(client, celery_worker, small_city):
    admin = get_user_model().objects.create_superuser("gis-notes", password="pw-123456-long")
    client.force_login(admin)
    text = "id,地址,note,lon\n1,枫杨路7号,客户备注甲,原值\n2,火星基地,客户备注乙,\n"
    upload = SimpleUploadedFile("with-notes.csv", text.encode("utf-8"), content_type="text/csv")
    response = client.post("/api/v1/geocode/batch", {"file": upload})
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    rows = finished_rows(client, job_id)
    assert [r["id"] for r in rows] == ["1", "2"]
    assert [r["note"] for r in rows] == ["客户备注甲", "客户备注乙"]
    assert rows[0]["lon"] == "原值" and float(rows[0]["geocode_lon"]) > 0
    assert "no known name" in rows[1]["geocode_note"]


@pytest.mark.django_db(transaction=True)
def test_batch_answers_only_what_its_owner_may_see(client, celery_worker, small_city):
    """A batch job runs as its owner: a component code finds nothing for an owner who may
    geocode in batch but not read components (it did: batch called geocode unscoped)."""
    from spatial.models import Component
    from tests.factories import PASSWORD, make_person

    from geocoder.match import geocode

    code = Component.objects.values_list("code", flat=True).first()
    assert code and geocode(code, limit=1)[1], "the code is found when nothing is hidden"
    make_person("batcher", permissions=["geocode.batch"])
    assert client.login(username="batcher", password=PASSWORD)
    text = f"id,地址\n1,{code}\n"
    upload = SimpleUploadedFile("codes.csv", text.encode("utf-8"), content_type="text/csv")
    response = client.post("/api/v1/geocode/batch", {"file": upload})
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    rows = finished_rows(client, job_id)
    assert rows[0]["match_level"] == "unmatched"
