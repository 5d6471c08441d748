"""Map labels: glyph PBFs from the local font (/fonts/{stack}/{range}.pbf), the styles' symbol
layers, the area label points, and in a real browser legible Chinese road names."""

from __future__ import annotations

from pathlib import Path

import mapbox_vector_tile
import mercantile
import numpy as np
import pytest
from django.test import override_settings

from tests.tiles.conftest import make_user
from tests.tiles.test_map_page import ARGS, CHROMIUM, ROOT, server, wait_idle
from tests.tiles.test_tilejson_styles import style_check
from tiles import glyphs

FONT = "WenQuanYi Micro Hei Regular"
FONT_URL = "/fonts/WenQuanYi%20Micro%20Hei%20Regular"
needs_font = pytest.mark.skipif(FONT not in glyphs.font_names(), reason="fonts-wqy-microhei")
SCREENSHOT = ROOT / "var" / "test-artifacts" / "screenshot-labels.png"


@pytest.fixture(autouse=True)
def _glyph_dir(tmp_path):
    with override_settings(GLYPHS_DIR=tmp_path / "glyphs"):
        yield tmp_path / "glyphs"


def test_encoder_and_decoder_round_trip():
    made = [
        glyphs.Glyph(32, b"", 0, 0, 0, 0, 6),
        glyphs.Glyph(0x8DEF, bytes(range(256)) * 2 + b"\x07" * 17, 5, 7, -3, -300, 24),
        glyphs.Glyph(65535, bytes([191]) * 42, 1, 36, 2**20, -(2**20), 200),
    ]
    data = glyphs.encode("A,B", 65280, 65535, made)
    [stack] = glyphs.decode(data)
    assert stack == {"name": "A,B", "range": "65280-65535", "glyphs": made}


def test_encoder_matches_the_protobuf_package():
    """The hand-written encoder writes what Google's protobuf runtime reads (a dynamic message
    built from Mapbox's glyphs.proto)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    proto = descriptor_pb2.FileDescriptorProto(name="glyphs.proto", package="llmr.glyphs")
    glyph = proto.message_type.add(name="glyph")
    t = descriptor_pb2.FieldDescriptorProto
    for number, name, kind in [
        (1, "id", t.TYPE_UINT32),
        (2, "bitmap", t.TYPE_BYTES),
        (3, "width", t.TYPE_UINT32),
        (4, "height", t.TYPE_UINT32),
        (5, "left", t.TYPE_SINT32),
        (6, "top", t.TYPE_SINT32),
        (7, "advance", t.TYPE_UINT32),
    ]:
        glyph.field.add(name=name, number=number, type=kind, label=t.LABEL_OPTIONAL)
    stack = proto.message_type.add(name="fontstack")
    stack.field.add(name="name", number=1, type=t.TYPE_STRING, label=t.LABEL_OPTIONAL)
    stack.field.add(name="range", number=2, type=t.TYPE_STRING, label=t.LABEL_OPTIONAL)
    stack.field.add(
        name="glyphs", number=3, type=t.TYPE_MESSAGE, type_name=".llmr.glyphs.glyph", label=3
    )
    top = proto.message_type.add(name="glyphs")
    top.field.add(
        name="stacks", number=1, type=t.TYPE_MESSAGE, type_name=".llmr.glyphs.fontstack", label=3
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    cls = message_factory.GetMessageClass(pool.FindMessageTypeByName("llmr.glyphs.glyphs"))
    msg = cls.FromString(
        glyphs.encode("S", 0, 255, [glyphs.Glyph(65, b"\x01" * 56, 2, 4, -1, -9, 13)])
    )
    g = msg.stacks[0].glyphs[0]
    assert (msg.stacks[0].name, msg.stacks[0].range) == ("S", "0-255")
    assert (g.id, g.width, g.height, g.left, g.top, g.advance) == (65, 2, 4, -1, -9, 13)
    assert g.bitmap == b"\x01" * 56


def test_sdf_has_the_edge_at_191_and_a_3px_buffer():
    square = np.zeros((10, 10), dtype=np.uint8)
    square[2:8, 2:8] = 255
    field = glyphs.sdf(square).astype(int)
    assert field.shape == (16, 16)
    assert field[8, 8] > 191 > field[0, 0]  # inside above the edge, outside below
    assert field[0, 0] == 0  # far outside (beyond the 8-px radius) is 0
    # The edge lies between the last pixel out and the first in (columns 4 and 5 with the
    # buffer): they average 191, and the field rises 255 / radius a pixel further in.
    assert abs((field[8, 4] + field[8, 5]) / 2 - 191) <= 1
    assert abs((field[8, 6] - field[8, 5]) - 255 / glyphs.RADIUS) < 1


@pytest.mark.parametrize(
    "text", ["0-256", "1-256", "256-510", "65536-65791", "a-b", "0_255", "-256-0", "0-255-511"]
)
def test_ranges_must_be_256_aligned(text):
    from core.errors import BadInput

    with pytest.raises(BadInput):
        glyphs.parse_range(text)


def test_every_aligned_range_parses():
    assert glyphs.parse_range("0-255") == (0, 255)
    assert glyphs.parse_range("65280-65535") == (65280, 65535)


@needs_font
def test_glyph_endpoint_serves_latin_and_cjk_ranges(client, db, _glyph_dir):
    response = client.get(f"{FONT_URL}/0-255.pbf")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/x-protobuf"
    assert "max-age=" in response["Cache-Control"] and "public" in response["Cache-Control"]
    [stack] = glyphs.decode(response.content)
    assert (stack["name"], stack["range"]) == (FONT, "0-255")
    by_id = {g.id: g for g in stack["glyphs"]}
    assert {ord(c) for c in "AZaz09 -"} <= set(by_id)
    for g in by_id.values():  # MapLibre refuses a bitmap of another size
        assert len(g.bitmap) == ((g.width + 6) * (g.height + 6) if g.width else 0)
    assert by_id[32].bitmap == b"" and by_id[32].advance > 0
    road = client.get(f"{FONT_URL}/36096-36351.pbf")  # 路 U+8DEF
    [cjk] = glyphs.decode(road.content)
    lu = next(g for g in cjk["glyphs"] if g.id == ord("路"))
    assert lu.advance == 24 and lu.width > 15
    field = np.frombuffer(lu.bitmap, np.uint8)
    assert (field >= 191).sum() > 40  # ink


@needs_font
def test_glyph_ranges_are_cached_on_disk_and_revalidated(client, db, _glyph_dir, monkeypatch):
    first = client.get(f"{FONT_URL}/256-511.pbf")
    assert first.status_code == 200
    assert list(_glyph_dir.rglob("256-511.pbf"))
    monkeypatch.setattr(glyphs, "build", lambda *a: pytest.fail("built again, not read"))
    again = client.get(f"{FONT_URL}/256-511.pbf")
    assert again.content == first.content and again["ETag"] == first["ETag"]
    same = client.get(f"{FONT_URL}/256-511.pbf", HTTP_IF_NONE_MATCH=first["ETag"])
    assert same.status_code == 304


@needs_font
def test_unknown_stacks_and_bad_ranges_are_json_errors(client, db):
    missing = client.get("/fonts/Open%20Sans%20Regular/0-255.pbf")
    assert missing.status_code == 404
    assert missing.json()["error"]["field"] == "fontstack"
    mixed = client.get(f"{FONT_URL},Nope%20Bold/0-255.pbf")
    assert mixed.status_code == 404
    bad = client.get(f"{FONT_URL}/0-300.pbf")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "range"
    assert client.get(f"{FONT_URL}/x.pbf").status_code == 400
    stack = client.get(f"{FONT_URL},WenQuanYi%20Micro%20Hei%20Mono%20Regular/0-255.pbf")
    assert stack.status_code == 200
    assert glyphs.decode(stack.content)[0]["name"].endswith("Mono Regular")


@needs_font
@pytest.mark.parametrize("variant", ["light", "dark"])
def test_styles_have_glyphs_and_label_layers(client, town, tmp_path, variant):
    client.force_login(make_user("label-admin", superuser=True))
    style = client.get(f"/styles/base.json?variant={variant}").json()
    assert style_check(style, tmp_path).startswith("OK")
    assert style["glyphs"].endswith("/fonts/{fontstack}/{range}.pbf")
    assert style["glyphs"].startswith("http")  # no CDN: our own host
    symbols = {x["id"]: x for x in style["layers"] if x["type"] == "symbol"}
    assert set(symbols) == {"roads-label", "districts-label", "streets-label", "communities-label"}
    road = symbols["roads-label"]
    assert road["layout"]["symbol-placement"] == "line"
    assert road["layout"]["text-field"] == ["get", "name"]
    assert road["layout"]["text-font"] == [FONT]
    assert road["metadata"]["citygrid:layer"] == "roads"
    assert road["paint"]["text-halo-width"] > 0
    zooms = {
        k: (symbols[f"{k}-label"]["minzoom"], symbols[f"{k}-label"]["maxzoom"])
        for k in ("districts", "streets", "communities")
    }
    assert zooms == {"districts": (10, 14), "streets": (12, 16), "communities": (14, 18)}
    assert symbols["communities-label"]["source-layer"] == "communities_labels"
    assert "communities_labels" in style["sources"]["citygrid"]["tiles"][0]
    assert style["layers"][-1]["type"] == "symbol"  # labels above every other layer


def test_area_label_points_are_one_per_area(client, town):
    """A community is cut into many z16 tiles; its label point is in exactly one of them."""
    from spatial.models import AdminArea

    community = AdminArea.objects.filter(level="community").first()
    west, south, east, north = community.geom.extent
    tiles = list(mercantile.tiles(west, south, east, north, 16))
    assert len(tiles) > 1
    found = []
    for t in tiles:
        response = client.get(f"/tiles/communities_labels/16/{t.x}/{t.y}.mvt")
        assert response.status_code in (200, 204)
        if response.status_code == 200:
            layer = mapbox_vector_tile.decode(response.content)["communities_labels"]
            found += [f["properties"]["name"] for f in layer["features"]]
    assert found.count(community.name) == 1
    assert client.get("/tiles/roads_labels/16/0/0.mvt").status_code == 404  # lines: none
    doc = client.get("/tiles/communities_labels.json").json()
    assert "name" in doc["vector_layers"][0]["fields"]


COUNT_LABELS_JS = """() => window.citygridMap.queryRenderedFeatures({layers: ['roads-label']})
  .map(f => f.properties.name)"""


@needs_font
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_map_page_draws_chinese_road_names(server):
    from playwright.sync_api import sync_playwright

    base, session, (lon, lat) = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on(
            "console",
            lambda m: m.type == "error"
            and "favicon" not in m.location.get("url", "")
            and problems.append(f"{m.text} ({m.location.get('url')})"),
        )
        glyph_answers: list[int] = []
        page.on("response", lambda r: "/fonts/" in r.url and glyph_answers.append(r.status))
        page.goto(f"{base}/map")
        wait_idle(page)
        page.evaluate(f"() => window.citygridMap.jumpTo({{center: [{lon}, {lat}], zoom: 16}})")
        page.wait_for_timeout(300)
        wait_idle(page)
        page.wait_for_function(f"() => ({COUNT_LABELS_JS})().length > 0", timeout=30000)
        names = page.evaluate(COUNT_LABELS_JS)
        assert names and all(any("\u4e00" <= c <= "\u9fff" for c in n) for n in names), names
        # Chinese names are drawn with the local font (localIdeographFontFamily): no PBF asked.
        # Latin letters and digits come from our PBFs: give the road names a number.
        with page.expect_response(lambda r: "/fonts/" in r.url and "/0-255.pbf" in r.url) as pbf:
            page.evaluate(
                "() => window.citygridMap.setLayoutProperty('roads-label', 'text-field',"
                " ['concat', ['get', 'name'], ' No.1'])"
            )
        assert pbf.value.status == 200
        page.wait_for_timeout(300)
        wait_idle(page)
        page.wait_for_function(f"() => ({COUNT_LABELS_JS})().length > 0", timeout=30000)
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT))
        assert glyph_answers and set(glyph_answers) <= {200, 304}, glyph_answers
        # Switching roads off in the layer list takes their names away too.
        page.locator("input[data-layer='roads']").uncheck()
        page.wait_for_timeout(300)
        wait_idle(page)
        visibility = page.evaluate(
            "() => window.citygridMap.getLayoutProperty('roads-label', 'visibility')"
        )
        assert visibility == "none"
        assert page.evaluate(COUNT_LABELS_JS) == []
        assert not [m for m in problems if "glyph" in m.lower() or "font" in m.lower()], problems
        assert not problems, problems
        browser.close()


__all__ = ["server"]  # the gunicorn fixture, shared with test_map_page
