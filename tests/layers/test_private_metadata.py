"""A private layer's metadata is the caller's too: no city-wide count or extent for a street
inspector, no hidden field to filter by, no existence confirmed to anonymous callers."""

import pytest
from django.test import Client

from spatial.models import Layer
from tests.factories import PASSWORD, make_person


@pytest.fixture
def components(db):
    layer = Layer.objects.get(key="components")
    assert not layer.public and layer.fields
    layer.extent, layer.feature_count = [116.2, 39.9, 116.4, 40.1], 12345
    layer.save(update_fields=["extent", "feature_count"])
    return layer


def _client(username: str) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


def test_a_scoped_reader_gets_no_city_wide_count_or_extent(components, city):
    from spatial.models import AdminArea

    street = AdminArea.objects.filter(level="street", code__startswith="110108").first()
    assert street is not None
    make_person("street-reader", permissions=["cases.read"], areas=[street], all_layers=True)
    body = _client("street-reader").get("/api/v1/layers/components").json()
    assert body["feature_count"] is None and body["extent"] is None
    ogc = _client("street-reader").get("/ogc/collections/components").json()
    assert "extent" not in ogc

    make_person("admin-reader", permissions=["system.admin"])
    full = _client("admin-reader").get("/api/v1/layers/components").json()
    assert full["feature_count"] == 12345 and full["extent"] == [116.2, 39.9, 116.4, 40.1]


def test_a_hidden_field_is_not_a_filter(components):
    hidden = components.fields[-1]["name"]
    components.fields = [
        {**f, "visible": False} if f["name"] == hidden else f for f in components.fields
    ]
    components.save(update_fields=["fields"])
    make_person("reader", permissions=["cases.read"], all_layers=True)
    client = _client("reader")
    response = client.get(f"/ogc/collections/components/items?{hidden}=x")
    assert response.status_code == 400 and response.json()["error"]["field"] == hidden
    described = client.get("/api/v1/layers/components").json()
    assert hidden not in [f["name"] for f in described["fields"]]


def test_anonymous_callers_cannot_tell_a_private_layer_from_none(components, client):
    for url in ("/tiles/components/16/1/1.mvt", "/tiles/components.json"):
        private, unknown = client.get(url), client.get(url.replace("components", "nothing"))
        assert private.status_code == unknown.status_code == 404, url
    assert client.get("/ogc/collections/components").status_code == 404
