"""PATCH /api/v1/layers/{key}: edits validated by the serializer that declares them, one error
per bad field, nothing written when anything is refused."""

import pytest

from spatial.models import Layer


@pytest.fixture
def layer(db):
    layer = Layer.objects.get(key="components")
    assert layer.fields, "the components layer describes its fields"
    return layer


@pytest.mark.parametrize(
    "body, field",
    [
        ({"fields": [{"name": {}}]}, "fields"),
        ({"fields": [{"alias": "x"}]}, "fields"),
        ({"fields": "code"}, "fields"),
        ({"min_zoom": 25}, "min_zoom"),
        ({"min_zoom": "x"}, "min_zoom"),
        ({"min_zoom": 16, "max_zoom": 10}, "min_zoom"),
        ({"public": "yes"}, "public"),
        ({"style": [1, 2]}, "style"),
        ({"style": {"color": "red"}}, "style"),
        ({"style": {"color": "#12345"}}, "style"),
        ({"style": {"width": 99}}, "style"),
        ({"style": {"opacity": -0.1}}, "style"),
        ({"style": {"width": "3"}}, "style"),
        ({"style": {"fill-color": "#ff0000"}}, "style"),
        ({"style": {"label_field": "no_such_field"}}, "style"),
        ({"style": {"by_field": "code", "categories": [{"value": "a", "color": "blue"}]}}, "style"),
        (
            {"style": {"by_field": "code", "categories": [{"value": "a", "color": "#000000"}] * 2}},
            "style",
        ),
        ({"style": {"categories": [{"value": "a", "color": "#000000"}]}}, "style"),
        ({"title": "   "}, "title"),
        ({"purpose": "nonsense"}, "purpose"),
        ({"table_name": "spatial_adminarea"}, "table_name"),
    ],
)
def test_bad_edits_name_their_field_and_change_nothing(admin_client, layer, body, field):
    before = Layer.objects.filter(pk=layer.pk).values().get()
    response = admin_client.patch(
        f"/api/v1/layers/{layer.key}", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "bad_input" and error["field"] == field, error
    assert Layer.objects.filter(pk=layer.pk).values().get() == before


def test_a_good_edit_changes_the_named_field_only(admin_client, layer):
    name = layer.fields[0]["name"]
    response = admin_client.patch(
        f"/api/v1/layers/{layer.key}",
        {"title": "城市部件", "fields": [{"name": name, "alias": "编码", "visible": False}]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    layer.refresh_from_db()
    assert layer.title == "城市部件"
    edited = next(f for f in layer.fields if f["name"] == name)
    assert edited["alias"] == "编码" and edited["visible"] is False


def test_an_edit_naming_no_field_of_the_layer_conflicts(admin_client, layer):
    """Well-formed, but naming nothing stored: 409, as for any missing reference."""
    before = Layer.objects.filter(pk=layer.pk).values().get()
    body = {"fields": [{"name": "no_such_field"}]}
    response = admin_client.patch(
        f"/api/v1/layers/{layer.key}", body, content_type="application/json"
    )
    assert response.status_code == 409, response.content
    assert response.json()["error"]["field"] == "fields"
    assert Layer.objects.filter(pk=layer.pk).values().get() == before


def test_a_style_is_saved_as_given_and_drawn_by_the_styles(admin_client, layer):
    """Colour by a field's values, width, opacity and a label field go into the layer's style
    and come out of /styles as MapLibre paint (a `match` on the field, other values the
    layer's colour)."""
    field = layer.fields[0]["name"]
    style = {
        "color": "#cc0000",
        "width": 3,
        "opacity": 0.5,
        "label_field": field,
        "by_field": field,
        "categories": [{"value": "a", "color": "#0000ff"}, {"value": "b", "color": "#00ff00"}],
    }
    response = admin_client.patch(
        f"/api/v1/layers/{layer.key}", {"style": style}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["style"] == style
    drawn = admin_client.get("/styles/base.json").json()
    paints = [x["paint"] for x in drawn["layers"] if x.get("source-layer") == layer.key]
    colours = [p.get("circle-color") or p.get("line-color") for p in paints]
    expected = ["match", ["to-string", ["get", field]], "a", "#0000ff", "b", "#00ff00", "#cc0000"]
    assert expected in colours
