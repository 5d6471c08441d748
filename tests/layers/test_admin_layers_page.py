"""The GIS admin's layers page (/admin/gis/layers) end to end in headless Chromium: gunicorn
and a Celery worker on the test database. The GIS admin uploads a zipped Shapefile in a
Gauss–Krüger CRS (CGCS2000 3-degree zone, central meridian 117°E, EPSG:4548, made here with
ogr2ogr from six of the test city's unit grids), follows the import job's progress bar, sees
the layer drawn where the unit grids are, colours it by an attribute and labels it, saves, and
after a reload the style is kept and is a MapLibre style that gl-style-validate accepts."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest
import requests
from django.test import Client

from accounts.demo import build_demo_organization
from spatial.models import UnitGrid
from tests.cases.test_console_page import ARTIFACTS, CHROMIUM, servers, session_of  # noqa: F401
from tests.tiles.test_map_page import ARGS
from tests.tiles.test_tilejson_styles import style_check

KINDS = ("公园", "广场")  # the attribute the layer is coloured by: three grids of each


@pytest.fixture
def org(city, db):
    return {p.user.get_username(): p for p in build_demo_organization()}


def test_the_pages_are_for_gis_admins_and_the_django_admin_still_answers(org):
    assert Client().get("/admin/gis/layers").status_code == 302  # to the sign-in page
    for username, status in (("gisadmin", 200), ("admin", 200), ("acceptor", 403)):
        client = Client()
        client.force_login(org[username].user)
        answer = client.get("/admin/gis/layers")
        assert answer.status_code == status, username
        assert "图层管理" in answer.content.decode()
    client = Client()
    client.force_login(org["gisadmin"].user)
    assert client.get("/admin/gis").headers["Location"] == "/admin/gis/layers"
    assert client.get("/admin/gis/areas").status_code == 403  # drawing areas is the centre's
    assert Client().get("/admin/").status_code == 302  # the Django admin, to its sign-in
    assert Client().get("/admin/login/").status_code == 200


def _gauss_kruger_shapefile(folder: Path, grids: list[UnitGrid]) -> Path:
    """Gives a zipped Shapefile of `grids` in EPSG:4548 (with its .prj), made by ogr2ogr."""
    features = [
        {
            "type": "Feature",
            "properties": {"name": f"测试{n + 1}号", "kind": KINDS[n % 2], "grid": g.code},
            "geometry": json.loads(g.geom.geojson),
        }
        for n, g in enumerate(grids)
    ]
    source = folder / "parks.geojson"
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    shp = folder / "parks.shp"
    subprocess.run(
        ["ogr2ogr", "-f", "ESRI Shapefile", "-t_srs", "EPSG:4548", "-lco", "ENCODING=UTF-8"]
        + [str(shp), str(source)],
        check=True,
        capture_output=True,
    )
    prj = (folder / "parks.prj").read_text()
    assert "117" in prj and "Gauss" in prj.replace("_", " ")  # the GK zone is declared
    zipped = folder / "parks.zip"
    with zipfile.ZipFile(zipped, "w") as out:
        for part in folder.glob("parks.*"):
            if part.suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                out.write(part, part.name)
    return zipped


ON_LAYER_JS = """([lon, lat]) => {
  const p = window.gisMap.project([lon, lat]);
  return window.gisMap.queryRenderedFeatures([p.x, p.y])
    .filter(f => f.sourceLayer === 'parks').map(f => f.properties.grid);
}"""


def _idle(page) -> None:
    page.wait_for_function(
        "() => window.gisMap && window.gisMap.loaded() && window.gisIdle === true", timeout=60000
    )


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_upload_a_gauss_kruger_shapefile_follow_it_restyle_and_keep_the_style(
    servers,  # noqa: F811
    tmp_path,
):
    from playwright.sync_api import sync_playwright

    base = servers
    grids = list(UnitGrid.objects.order_by("code")[:6])
    assert len(grids) == 6
    centres = {g.code: (g.geom.point_on_surface.x, g.geom.point_on_surface.y) for g in grids}
    zipped = _gauss_kruger_shapefile(tmp_path, grids)
    session = session_of("gisadmin")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/admin/gis/layers")
        page.wait_for_selector("#layer-list li")
        _idle(page)

        # Nothing chosen: the message is next to the file field, nothing is sent.
        page.get_by_role("button", name="上传并导入").click()
        assert page.locator(".error[data-for='file']").inner_text() == "请选择要上传的文件"

        page.set_input_files("input[name='file']", str(zipped))
        page.fill("input[name='key']", "parks")
        page.fill("input[name='title']", "公园广场")
        page.check("#upload input[name='public']")  # count and extent: for those who see all
        seen: list[str] = []
        page.expose_function("noteProgress", lambda text: seen.append(text))
        page.evaluate(
            """() => new MutationObserver(() => window.noteProgress(
                 document.querySelector('#job-state').textContent))
               .observe(document.querySelector('#job'), {subtree: true, childList: true,
                 characterData: true, attributes: true})"""
        )
        page.get_by_role("button", name="上传并导入").click()
        page.wait_for_selector("#job-state.succeeded", timeout=60000)
        assert page.locator("#job-progress").get_attribute("value") == "1"
        assert "导入完成" in seen and seen[0] in ("排队中", "导入中")
        notes = page.locator("#job-notes").inner_text()
        assert "写入 6 个要素" in notes and "EPSG:4548" in notes, notes
        page.wait_for_selector("#layer-list li.selected[data-key='parks']")
        row = page.locator("#layer-list li[data-key='parks']").inner_text()
        assert "6 个要素" in row

        # Drawn at the unit grids' places (a 2 m check of the GK conversion is in the API).
        _idle(page)
        for code, centre in centres.items():
            assert page.evaluate(ON_LAYER_JS, list(centre)) != [], code
        layer = requests.get(
            base + "/api/v1/layers/parks", cookies={"sessionid": session}, timeout=30
        ).json()
        minx, miny, maxx, maxy = layer["extent"]
        extents = [g.geom.extent for g in grids]
        assert abs(minx - min(e[0] for e in extents)) < 2e-5
        assert abs(maxy - max(e[3] for e in extents)) < 2e-5

        # Restyle: red outline 3 px, coloured by kind, labelled by name; live before saving.
        page.fill("#style input[name='color']", "#cc0000")
        page.fill("#style input[name='width']", "3")
        page.select_option("#style select[name='label_field']", "name")
        page.select_option("#style select[name='by_field']", "kind")
        page.wait_for_selector("#categories li:nth-child(2)")
        page.locator("#categories input").nth(0).fill("#2255ff")
        paint = page.evaluate("() => window.gisMap.getPaintProperty('parks-fill', 'fill-color')")
        assert paint[0] == "match" and "#2255ff" in paint
        page.screenshot(path=str(ARTIFACTS / "gis-admin-layers-edit.png"))
        page.fill("#style input[name='min_zoom']", "16")
        page.fill("#style input[name='max_zoom']", "10")
        page.get_by_role("button", name="保存样式").click()
        assert (
            page.locator("#style .error[data-for='min_zoom']").inner_text()
            == "最小级别不能大于最大级别"
        )
        page.fill("#style input[name='min_zoom']", "10")
        page.fill("#style input[name='max_zoom']", "20")
        with page.expect_response(lambda r: r.url.endswith("/api/v1/layers/parks")) as saved:
            page.get_by_role("button", name="保存样式").click()
        assert saved.value.status == 200, saved.value.text()

        page.reload()
        page.wait_for_selector("#layer-list li[data-key='parks']")
        _idle(page)
        page.click("#layer-list li[data-key='parks']")
        _idle(page)
        assert page.input_value("#style input[name='color']") == "#cc0000"
        assert page.input_value("#style select[name='by_field']") == "kind"
        fill = page.evaluate("() => window.gisMap.getPaintProperty('parks-fill', 'fill-color')")
        first_kind = sorted(KINDS)[0]
        assert fill[:4] == ["match", ["to-string", ["get", "kind"]], first_kind, "#2255ff"], fill
        assert (
            page.evaluate("() => window.gisMap.getPaintProperty('parks-line', 'line-width')") == 3
        )
        assert page.evaluate("() => !!window.gisMap.getLayer('parks-label')")
        page.wait_for_timeout(300)
        page.screenshot(path=str(ARTIFACTS / "gis-admin-layers.png"))
        assert errors == []
        browser.close()

    style = requests.get(
        base + "/styles/all.json?variant=light", cookies={"sessionid": session}, timeout=30
    ).json()
    assert style_check(style, tmp_path).startswith("OK")
    ids = {x["id"]: x for x in style["layers"]}
    assert ids["parks-label"]["layout"]["text-field"] == ["to-string", ["get", "name"]]
    assert ids["parks-line"]["minzoom"] == 10


def _gcj02_geojson(folder: Path, grids: list[UnitGrid]) -> Path:
    """Gives a GeoJSON of `grids` whose coordinates are GCJ-02 (as a Chinese web map gives
    them) while the file, as GeoJSON does, declares WGS84."""
    import numpy as np

    from spatial.crs import from_wgs84_array

    def shifted(rings):
        out = []
        for ring in rings:
            lon, lat = from_wgs84_array(
                np.array([p[0] for p in ring]), np.array([p[1] for p in ring]), "gcj02"
            )
            out.append([[float(x), float(y)] for x, y in zip(lon, lat)])
        return out

    features = []
    for n, g in enumerate(grids):
        geometry = json.loads(g.geom.geojson)
        geometry["coordinates"] = [shifted(poly) for poly in geometry["coordinates"]]
        features.append(
            {"type": "Feature", "properties": {"name": f"偏移{n + 1}号"}, "geometry": geometry}
        )
    path = folder / "amap.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_gcj02_declared_as_wgs84_is_refused_next_to_the_crs_and_converted_with_auto(
    servers,  # noqa: F811
    tmp_path,
):
    from playwright.sync_api import sync_playwright

    base = servers
    grids = list(UnitGrid.objects.order_by("code")[:6])
    assert len(grids) == 6
    centres = [(g.geom.point_on_surface.x, g.geom.point_on_surface.y) for g in grids]
    path = _gcj02_geojson(tmp_path, grids)
    session = session_of("gisadmin")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/admin/gis/layers")
        page.wait_for_selector("#layer-list li")
        page.set_input_files("input[name='file']", str(path))
        page.fill("input[name='key']", "amap_parks")
        page.check("#upload input[name='public']")
        page.get_by_role("button", name="上传并导入").click()
        page.wait_for_selector("#job-state.failed", timeout=60000)
        said = page.locator(".error[data-for='crs']").inner_text()
        assert "坐标疑似偏移" in said and "gcj02" in said.lower(), said
        assert page.get_attribute("select[name='crs']", "aria-invalid") == "true"
        assert page.locator("#layer-list li[data-key='amap_parks']").count() == 0

        page.select_option("select[name='crs']", "auto")
        page.get_by_role("button", name="上传并导入").click()
        page.wait_for_selector("#job-state.succeeded", timeout=60000)
        notes = page.locator("#job-notes").inner_text()
        assert "坐标按 GCJ-02 纠偏后导入" in notes, notes
        page.wait_for_selector("#layer-list li.selected[data-key='amap_parks']")
        _idle(page)
        on_layer = ON_LAYER_JS.replace("'parks'", "'amap_parks'")
        for centre in centres:
            assert page.evaluate(on_layer, list(centre)) != [], centre
        page.screenshot(path=str(ARTIFACTS / "gis-admin-layers-gcj02.png"))
        assert errors == []
        browser.close()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed")
@pytest.mark.django_db(transaction=True)
def test_the_map_configuration_takes_the_current_view(servers):  # noqa: F811
    from playwright.sync_api import sync_playwright

    base = servers
    grid = UnitGrid.objects.order_by("code").first()
    here = (round(grid.geom.point_on_surface.x, 6), round(grid.geom.point_on_surface.y, 6))
    session = session_of("gisadmin")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        context.add_cookies([{"name": "sessionid", "value": session, "url": base}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/admin/gis/layers")
        page.wait_for_selector("#layer-list li")
        page.wait_for_function(
            "() => document.querySelector('#map-config [name=zoom]').value !== ''"
        )
        page.click("#map-config-box summary")
        page.evaluate(f"() => window.gisMap.jumpTo({{center: [{here[0]}, {here[1]}], zoom: 15.2}})")
        page.get_by_role("button", name="用当前地图视图").click()
        assert page.input_value("#map-config [name=zoom]") == "15"
        page.fill("#map-config [name=min_zoom]", "16")
        page.fill("#map-config [name=max_zoom]", "12")
        page.get_by_role("button", name="保存地图配置").click()
        said = page.locator("#map-config .error[data-for='min_zoom']").inner_text()
        assert said == "最小级别不能大于最大级别"
        page.fill("#map-config [name=max_zoom]", "19")
        page.get_by_role("button", name="保存地图配置").click()  # the default zoom 15 < 16
        assert "默认级别" in page.locator("#map-config .error[data-for='zoom']").inner_text()
        page.fill("#map-config [name=min_zoom]", "10")
        page.fill("#map-config [name=max_zoom]", "19")
        page.fill("#map-config [name=title]", "测试城市地图")
        with page.expect_response(lambda r: r.url.endswith("/api/v1/map-config")) as saved:
            page.get_by_role("button", name="保存地图配置").click()
        assert saved.value.status == 200, saved.value.text()
        assert errors == []
        browser.close()
    config = requests.get(base + "/api/v1/map-config", cookies={"sessionid": session}, timeout=30)
    body = config.json()
    assert body["title"] == "测试城市地图"
    assert body["center"] == pytest.approx(list(here), abs=1e-6)
    assert (body["zoom"], body["min_zoom"], body["max_zoom"]) == (15, 10, 19)
