"""Batch geocoding keeps every input column: result columns whose names the input already uses
are written under geocode_<name>."""

import csv
import io
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from geocoder.batch import result_names


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
    for _ in range(100):
        body = client.get(f"/api/v1/geocode/batch/{job_id}").json()
        if body["state"] in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    assert body["state"] == "succeeded", body
    result = client.get(body["result_url"])
    rows = list(csv.DictReader(io.StringIO(b"".join(result.streaming_content).decode("utf-8-sig"))))
    assert [r["id"] for r in rows] == ["1", "2"]
    assert [r["note"] for r in rows] == ["客户备注甲", "客户备注乙"]
    assert rows[0]["lon"] == "原值" and float(rows[0]["geocode_lon"]) > 0
    assert "no known name" in rows[1]["geocode_note"]
