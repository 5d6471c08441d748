"""Batch geocoding through Celery, access control, and geopy's Nominatim client live."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import Job


def csv_upload(rows, name="addresses.csv"):
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "地址"])
    writer.writerows(rows)
    return SimpleUploadedFile(name, buf.getvalue().encode("utf-8"), content_type="text/csv")


@pytest.mark.django_db(transaction=True)
def test_batch_job_keeps_every_row_and_explains_misses(client, celery_worker, small_city):
    admin = get_user_model().objects.create_superuser("gis", password="pw-123456-long")
    client.force_login(admin)
    rows = [
        (1, "枫杨路7号"),
        (2, "枫杨路5号附近"),
        (3, "火星基地"),
        (4, ""),
        (5, "枫林科技大学5号楼"),
    ]
    r = client.post("/api/v1/geocode/batch", {"file": csv_upload(rows)})
    assert r.status_code == 202, r.content
    job_id = r.json()["id"]
    import time

    for _ in range(100):
        body = client.get(f"/api/v1/geocode/batch/{job_id}").json()
        if body["state"] in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    assert body["state"] == "succeeded", body
    assert body["rows_done"] == 5 and body["report"]["unmatched"] == 2
    result = client.get(body["result_url"])
    assert result.status_code == 200
    text = b"".join(result.streaming_content).decode("utf-8-sig")
    out = list(csv.DictReader(io.StringIO(text)))
    assert [row["id"] for row in out] == ["1", "2", "3", "4", "5"]
    assert out[0]["match_level"] == "door" and float(out[0]["score"]) > 0.9
    assert out[1]["match_level"] == "interpolated" and "附近" in out[1]["note"]
    assert out[2]["match_level"] == "unmatched" and "no known name" in out[2]["note"]
    assert out[3]["note"] == "empty address"
    assert out[4]["match_level"] == "building"


@pytest.mark.django_db
def test_batch_needs_sign_in_and_permission(client, small_city):
    assert client.post("/api/v1/geocode/batch", {"file": csv_upload([])}).status_code == 401
    plain = get_user_model().objects.create_user("clerk", password="pw-123456-long")
    client.force_login(plain)
    assert client.post("/api/v1/geocode/batch", {"file": csv_upload([])}).status_code == 403


@pytest.mark.django_db
def test_batch_refuses_a_csv_without_an_address_column(client, small_city):
    admin = get_user_model().objects.create_superuser("gis2", password="pw-123456-long")
    client.force_login(admin)
    bad = SimpleUploadedFile("x.csv", b"a,b\n1,2\n", content_type="text/csv")
    r = client.post("/api/v1/geocode/batch", {"file": bad})
    assert r.status_code == 400 and r.json()["error"]["field"] == "file"
    assert client.post("/api/v1/geocode/batch", {}).status_code == 400
    assert not Job.objects.filter(kind="geocode_batch").exists()


@pytest.mark.django_db(transaction=True)
def test_geopy_nominatim_client_works_against_the_server(live_server, small_city):
    from geopy.geocoders import Nominatim

    host = live_server.url.removeprefix("http://")
    geo = Nominatim(domain=f"{host}/nominatim", scheme="http", user_agent="citygrid-test")
    found = geo.geocode("枫杨路7号", addressdetails=True)
    door = small_city.doors[7].geom
    assert found is not None and found.address.endswith("枫杨路7号")
    assert found.latitude == pytest.approx(door.y, abs=1e-6)
    assert found.raw["address"]["house_number"] == "7"
    many = geo.geocode("枫杨路", exactly_one=False)
    assert many and "枫杨路" in many[0].address
    back = geo.reverse((door.y, door.x))
    assert back is not None and back.address.endswith("枫杨路7号")
    assert geo.reverse((30.0, 100.0)) is None
