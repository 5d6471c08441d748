"""No reporter field in any public answer (issue 25): every public route of the public service
(Open311, the public JSON API, the public tiles, the /public page) is found in the URL
configuration itself, requested with real values (the numbers, tokens, photos and tiles of
cases a demo reporter made), and its answer searched for that reporter's phone, name, e-mail
and device id. A route of the public service that the walk did not answer with 200 fails it,
so a new public route is walked too."""

from __future__ import annotations

import io
import random
import re

import mercantile
import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from PIL import Image

from cases.demo.texts import Texts
from cases.models import Case, CaseMedia, PublicReport
from tests.cases.conftest import inside
from tests.cases.test_main_path import act

pytestmark = pytest.mark.django_db
PUBLIC_PREFIXES = ("open311/", "api/v1/public/", "tiles/public/", "public")
REPORTER = Texts(random.Random(25)).reporter()  # a demo reporter, as the demo makes them
EMAIL = "reporter.private@example.cn"
DEVICE = "device-secret-4711"


def routes(resolvers=None, prefix: str = ""):
    """(path pattern text, view) of every route, nested includes flattened."""
    for entry in resolvers if resolvers is not None else get_resolver().url_patterns:
        text = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from routes(entry.url_patterns, text.replace("^", ""))
        elif isinstance(entry, URLPattern):
            yield text.replace("^", ""), entry.callback


def public_routes() -> list[str]:
    return sorted({text for text, _ in routes() if text.startswith(PUBLIC_PREFIXES)})


def fill(pattern: str, values: dict[str, list[str]]) -> list[str]:
    """Every path a pattern gives with the sample values of its parameters."""
    paths = [pattern.rstrip("$")]
    for name in re.findall(r"\(\?P<(\w+)>[^)]*\)|<(?:\w+:)?(\w+)>", pattern):
        name = name[0] or name[1]
        found = re.search(rf"\(\?P<{name}>[^)]*\)|<(?:\w+:)?{name}>", paths[0])
        token = found.group(0)
        paths = [p.replace(token, value, 1) for p in paths for value in values[name]]
    paths = [re.sub(r"\(\?:([^|)]+)[^)]*\)", r"\1", p) for p in paths]  # (?:mvt|pbf): mvt
    return ["/" + p.replace("\\.", ".") for p in paths]


def jpeg() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (40, 30), (90, 140, 200)).save(data, "JPEG")
    data.seek(0)
    data.name = "photo.jpg"
    return data


@pytest.fixture
def reported(org, as_user, two_streets):
    """Cases the demo reporter made through Open311 (with a photo) and the hotline, one of
    them dispatched with an opinion, and their numbers, tokens and photos."""
    out = io.StringIO()
    call_command("open311_keys", "create", "walk", "--channel", "miniprogram", stdout=out)
    key = out.getvalue().strip()
    lon, lat = inside(two_streets[0])
    answers = []
    for text in ("路边堆放垃圾", "垃圾桶满溢"):
        made = Client().post(
            "/open311/v2/requests.json",
            {
                "api_key": key,
                "service_code": "E0102",
                "lat": lat,
                "long": lon,
                "description": text,
                "first_name": REPORTER.name[1:],
                "last_name": REPORTER.name[:1],
                "phone": REPORTER.phone,
                "email": EMAIL,
                "device_id": DEVICE,
                "media": jpeg(),
            },
        )
        assert made.status_code == 201, made.content
        answers.append(made.content)
    hotline = as_user("acceptor").post(
        "/api/v1/cases",
        {
            "source": "hotline",
            "kind": "event",
            "category": "0102",
            "description": "市民来电反映路口有暴露垃圾",
            "lon": lon,
            "lat": lat,
            "reporter": {"name": REPORTER.name, "phone": REPORTER.phone},
        },
        content_type="application/json",
    )
    assert hotline.status_code == 201, hotline.content
    first = Case.objects.filter(source="public").order_by("id").first()
    done = act(as_user("acceptor"), first.pk, "accept", 1, opinion="已受理")
    assert done.status_code == 200
    cases = list(Case.objects.all())
    assert len(cases) == 3 and all(c.reporter_phone == REPORTER.phone for c in cases)
    assert CaseMedia.objects.count() == 2
    return {"answers": answers, "cases": cases, "lon": lon, "lat": lat}


def test_no_public_route_answers_a_reporters_phone_name_email_or_device(reported):
    cases = reported["cases"]
    tiles = set()
    for zoom in (10, 13, 16):
        tile = mercantile.tile(reported["lon"], reported["lat"], zoom)
        tiles.add((str(tile.z), str(tile.x), str(tile.y)))
    values = {
        "code": ["E0102", "C0101"],
        "number": [c.number for c in cases],
        "token": [str(t) for t in PublicReport.objects.values_list("token", flat=True)],
        "media_id": [str(m) for m in CaseMedia.objects.values_list("id", flat=True)],
    }
    queries = {
        "open311/v2/requests": "?extensions=true",
        "api/v1/public/nearby": f"?lon={reported['lon']}&lat={reported['lat']}",
    }
    secrets = [REPORTER.phone, REPORTER.name, EMAIL, DEVICE]
    assert len(REPORTER.name) >= 2 and len(REPORTER.phone) == 11
    answered: dict[str, int] = {}
    bodies = list(reported["answers"])
    for pattern in public_routes():
        if "(?P<z>" in pattern:
            paths = [fill(pattern, {"z": [z], "x": [x], "y": [y]})[0] for z, x, y in sorted(tiles)]
        else:
            paths = fill(pattern, values)
        query = next((q for p, q in queries.items() if pattern.startswith(p)), "")
        for path in paths:
            response = Client().get(path + query)
            assert response.status_code < 500, (path, response.status_code)
            if response.status_code == 200:
                answered[pattern] = answered.get(pattern, 0) + 1
                body = b"".join(response) if response.streaming else response.content
                bodies.append(body)
    missing = [p for p in public_routes() if p not in answered]
    # Citizens' own routes answer only with a token (401 here), POST-only routes 405 and the
    # Open311 catch-all 404; every other public route must have answered.
    allowed = ("my/", "citizens/", "reports", "open311/v2/.*")
    assert all(any(a in p for a in allowed) for p in missing), missing
    assert len(answered) >= 12, sorted(answered)
    assert any(b"20" in body for body in bodies)  # the case numbers were served
    assert sum(1 for b in bodies if b.startswith(b"\xff\xd8")) >= 2  # the photos were served
    for body in bodies:
        for secret in secrets:
            assert secret.encode() not in body, (secret, body[:300])


def test_another_citizen_sees_nothing_of_the_reporters_cases(reported, settings):
    from tests.cases.test_citizens import signed_in

    token = signed_in("13700000001")
    mine = Client().get("/api/v1/public/my/cases", HTTP_X_CITIZEN_TOKEN=token)
    assert mine.status_code == 200 and mine.json()["cases"] == []
    for secret in (REPORTER.phone, REPORTER.name):
        assert secret not in mine.content.decode()
    number = reported["cases"][0].number
    rated = Client().post(
        f"/api/v1/public/my/cases/{number}/rating",
        {"stars": 1},
        content_type="application/json",
        HTTP_X_CITIZEN_TOKEN=token,
    )
    assert rated.status_code == 404
