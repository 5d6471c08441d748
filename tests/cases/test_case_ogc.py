"""Cases as the OGC API – Features collection `cases`: only for callers who read cases, each
seeing their own cases with the list's filters; read by OWSLib from a real server."""

from __future__ import annotations

import pytest

from accounts.authentication import issue_token
from accounts.models import Person
from cases.models import Case
from tests.cases.scattered import scatter_cases

pytestmark = pytest.mark.django_db


@pytest.fixture
def scattered(org, two_streets):
    return scatter_cases(org, two_streets)


def collection_ids(client) -> set[str]:
    response = client.get("/ogc/collections")
    assert response.status_code == 200, response.content
    return {c["id"] for c in response.json()["collections"]}


def items(client, **query) -> dict:
    response = client.get("/ogc/collections/cases/items", query)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/geo+json"
    return response.json()


def test_the_collection_exists_only_for_callers_who_read_cases(client, as_user, scattered):
    assert "cases" not in collection_ids(client)
    assert client.get("/ogc/collections/cases").status_code == 404
    assert client.get("/ogc/collections/cases/items").status_code == 404
    assert client.get(f"/ogc/collections/cases/items/{scattered.hotline}").status_code == 404
    acceptor = as_user("acceptor")
    assert {"cases", "districts"} <= collection_ids(acceptor)
    described = acceptor.get("/ogc/collections/cases").json()
    assert described["id"] == "cases" and described["itemType"] == "feature"


def test_items_are_the_callers_cases_with_their_placement(as_user, two_streets, scattered):
    inspector = as_user(f"inspector-{two_streets[0].code}")
    page = items(inspector, limit=100)
    assert page["numberMatched"] == len(scattered.in_a)
    assert {f["id"] for f in page["features"]} == set(scattered.in_a)
    feature = next(f for f in page["features"] if f["id"] == scattered.hotline)
    case = Case.objects.get(pk=scattered.hotline)
    assert feature["geometry"] == {
        "type": "Point",
        "coordinates": [round(case.geom.x, 7), round(case.geom.y, 7)],
    }
    properties = feature["properties"]
    assert properties["number"] == case.number and properties["category_code"] == "0102"
    assert properties["street_code"] == two_streets[0].code
    assert properties["description"] == "热线反映垃圾堆积"
    assert not {k for k in properties if k.startswith("reporter")}
    assert "王女士" not in str(page) and "13800001234" not in str(page)
    # One item: theirs, and not another street's.
    one = inspector.get(f"/ogc/collections/cases/items/{scattered.hotline}")
    assert one.status_code == 200 and one.json()["id"] == scattered.hotline
    other = inspector.get(f"/ogc/collections/cases/items/{scattered.in_b[0]}")
    assert other.status_code == 404


def test_filters_bbox_and_paging(as_user, two_streets, scattered):
    acceptor = as_user("acceptor")
    assert items(acceptor, category="0103")["numberMatched"] == len(scattered.components)
    assert items(acceptor, state="handling")["numberMatched"] == len(scattered.huanwei)
    street_b = two_streets[1]
    west, south, east, north = street_b.geom.extent
    boxed = items(acceptor, bbox=f"{west},{south},{east},{north}", limit=100)
    assert set(scattered.in_b) <= {f["id"] for f in boxed["features"]}
    first = items(acceptor, limit=5)
    assert first["numberMatched"] == 13 and first["numberReturned"] == 5
    assert any(link["rel"] == "next" for link in first["links"])
    second = items(acceptor, limit=5, offset=5)
    assert not {f["id"] for f in first["features"]} & {f["id"] for f in second["features"]}
    assert (
        items(acceptor, datetime="2000-01-01T00:00:00Z/2000-01-02T00:00:00Z")["numberMatched"] == 0
    )
    unknown = acceptor.get("/ogc/collections/cases/items", {"reporter_phone": "1"})
    assert unknown.status_code == 400 and unknown.json()["error"]["field"] == "reporter_phone"


def test_a_handling_department_gets_only_its_cases(as_user, scattered):
    page = items(as_user("dept-huanwei"), limit=100)
    assert {f["id"] for f in page["features"]} == set(scattered.huanwei)


@pytest.mark.django_db(transaction=True)
def test_owslib_reads_the_collection_with_a_bearer_token(live_server, org, two_streets):
    from owslib.ogcapi.features import Features
    from owslib.util import Authentication
    from requests.auth import AuthBase

    class Bearer(AuthBase):
        # Through `auth`: OWSLib's `headers=` are written into its module-wide default headers,
        # which every later client (the anonymous one below) would send too.
        def __call__(self, request):
            request.headers["Authorization"] = f"Bearer {token}"
            return request

    scattered = scatter_cases(org, two_streets)
    inspector = Person.objects.get(user__username=f"inspector-{two_streets[0].code}").user
    token, _ = issue_token(inspector)
    signed_in = Features(f"{live_server.url}/ogc", auth=Authentication(auth_delegate=Bearer()))
    assert "cases" in {c["id"] for c in signed_in.collections()["collections"]}
    assert signed_in.collection("cases")["title"] == "案件"
    found = signed_in.collection_items("cases", limit=100)
    assert found["numberMatched"] == len(scattered.in_a)
    assert {f["id"] for f in found["features"]} == set(scattered.in_a)
    filtered = signed_in.collection_items("cases", category="0103")
    assert {f["id"] for f in filtered["features"]} == set(scattered.components)
    anonymous = Features(f"{live_server.url}/ogc")
    assert "cases" not in {c["id"] for c in anonymous.collections()["collections"]}
