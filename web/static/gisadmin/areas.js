/* The controlled area page (管控区域): draw an area with terra-draw (snapping to unit grid
   corners), its effect, classes, validity and daily windows, saved through the
   controlled-areas API; the precheck of a report at a clicked point shows what a reporter meets. */
(function () {
  "use strict";
  var G = window.GisAdmin, el = G.el;
  var map = null, draw = null, editing = null, picking = false, areas = [];
  var form = document.getElementById("area"), check = document.getElementById("check");
  var SNAP_PX = 10;

  /* ---- drawing ---- */
  function setTool(tool) {
    if (!draw) { return; }
    draw.setMode(tool || "static");
    document.querySelectorAll("[data-tool]").forEach(function (b) { b.setAttribute("aria-pressed", b.dataset.tool === tool ? "true" : "false"); });
    map.getCanvas().style.cursor = tool === "polygon" ? "crosshair" : "";
  }

  /* The nearest unit grid corner within SNAP_PX pixels of the pointer, if any. */
  function snapToGridCorner(event) {
    var x = event.containerX, y = event.containerY, best = null, bestD = SNAP_PX * SNAP_PX;
    var found = map.queryRenderedFeatures([[x - SNAP_PX, y - SNAP_PX], [x + SNAP_PX, y + SNAP_PX]])
      .filter(function (f) { return f.sourceLayer === "unit_grids"; });
    found.forEach(function (f) {
      var polys = f.geometry.type === "Polygon" ? [f.geometry.coordinates] : f.geometry.coordinates;
      polys.forEach(function (poly) { poly.forEach(function (ring) { ring.forEach(function (c) {
        var p = map.project(c), d = (p.x - x) * (p.x - x) + (p.y - y) * (p.y - y);
        if (d < bestD) { bestD = d; best = c; }
      }); }); });
    });
    return best || undefined;
  }

  function drawnGeometry() {
    var polygons = draw.getSnapshot().filter(function (f) { return f.geometry.type === "Polygon"; });
    if (!polygons.length) { return null; }
    if (polygons.length === 1) { return polygons[0].geometry; }
    return { type: "MultiPolygon", coordinates: polygons.map(function (f) { return f.geometry.coordinates; }) };
  }

  function showGeometry(geometry) {
    draw.clear();
    var polys = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    draw.addFeatures(polys.map(function (coords) {
      return { type: "Feature", geometry: { type: "Polygon", coordinates: coords }, properties: { mode: "polygon" } };
    }));
  }

  /* ---- daily windows ---- */
  function addWindow(start, end) {
    var list = document.getElementById("windows");
    var a = el("input", { type: "time", value: start || "08:00", "aria-label": "开始" });
    var b = el("input", { type: "time", value: end || "18:00", "aria-label": "结束" });
    var remove = el("button", { type: "button", text: "删除", "aria-label": "删除此时段" });
    var row = el("li", { class: "window" }, [el("span", { class: "row2" }, [a, b]), remove]);
    remove.addEventListener("click", function () { row.remove(); });
    list.appendChild(row);
  }
  document.getElementById("add-window").addEventListener("click", function () { addWindow(); });

  function windows() {
    return Array.prototype.map.call(document.querySelectorAll("#windows li"), function (row) {
      var inputs = row.querySelectorAll("input");
      return [inputs[0].value, inputs[1].value];
    });
  }

  function localInput(text) { return text ? text.slice(0, 16) : ""; }

  /* ---- the form ---- */
  function resetForm() {
    editing = null;
    form.reset();
    document.getElementById("windows").innerHTML = "";
    G.clearErrors(form);
    if (draw) { draw.clear(); }
    document.getElementById("area-title").textContent = "新建管控区域";
    document.getElementById("save-area").textContent = "保存管控区域";
  }
  document.getElementById("new-area").addEventListener("click", function () { resetForm(); setTool("polygon"); });
  document.getElementById("erase").addEventListener("click", function () { draw.clear(); setTool("polygon"); });

  function load(area) {
    resetForm();
    editing = area;
    var f = form.elements;
    f.name.value = area.name; f.action.value = area.action;
    f.reason.value = area.reason; f.requirement.value = area.requirement;
    f.valid_from.value = localInput(area.valid_from); f.valid_to.value = localInput(area.valid_to);
    Array.prototype.forEach.call(f.categories.options, function (o) { o.selected = area.categories.indexOf(o.value) >= 0; });
    area.daily_windows.forEach(function (w) { addWindow(w[0], w[1]); });
    showGeometry(area.geometry);
    setTool("select");
    document.getElementById("area-title").textContent = "修改管控区域：" + area.name;
    document.getElementById("save-area").textContent = "保存修改";
    fitTo(area.geometry);
  }

  function fitTo(geometry) {
    var b = new maplibregl.LngLatBounds(), polys = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    polys.forEach(function (p) { p[0].forEach(function (c) { b.extend(c); }); });
    map.fitBounds(b, { padding: 80, maxZoom: 17 });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    G.clearErrors(form);
    var f = form.elements, geometry = drawnGeometry();
    if (!geometry) { G.showError(form, { field: "geometry", message: "请先在地图上绘制区域（点“绘制区域”）" }); return; }
    if (!f.name.value.trim()) { G.showError(form, { field: "name", message: "请填写区域名称" }); return; }
    var body = {
      name: f.name.value.trim(), geometry: geometry, action: f.action.value,
      categories: Array.prototype.filter.call(f.categories.options, function (o) { return o.selected; }).map(function (o) { return o.value; }),
      valid_from: f.valid_from.value || null, valid_to: f.valid_to.value || null,
      daily_windows: windows(), reason: f.reason.value, requirement: f.requirement.value
    };
    if (body.valid_from && body.valid_to && body.valid_to <= body.valid_from) {
      G.showError(form, { field: "valid_to", message: "失效时间应晚于生效时间" }); return;
    }
    var call = editing ? G.api("PATCH", "/api/v1/controlled-areas/" + editing.id, body) : G.api("POST", "/api/v1/controlled-areas", body);
    call.then(function (area) {
      G.toast((editing ? "已保存：" : "已建立：") + area.name);
      resetForm();
      setTool(null);
      loadAreas().then(reloadTiles);
    }, function (err) { G.showError(form, err); });
  });

  function reloadTiles() {
    Object.keys(map.getStyle().sources).forEach(function (id) {
      var src = map.getSource(id);
      if (src && src.type === "vector" && src.setTiles && src.tiles) { src.setTiles(src.tiles.slice()); }
    });
  }

  /* ---- the list ---- */
  var EFFECT = { forbid: "禁止上报", warn: "提醒" };
  function loadAreas() {
    return G.api("GET", "/api/v1/controlled-areas").then(function (answer) {
      areas = answer.areas;
      var list = document.getElementById("area-list");
      list.innerHTML = "";
      if (!areas.length) { list.appendChild(el("li", { class: "meta", text: "还没有管控区域。" })); }
      areas.forEach(function (area) {
        var when = area.daily_windows.length ? area.daily_windows.map(function (w) { return w[0] + "–" + w[1]; }).join("、") : "全天";
        var row = el("li", { tabindex: "0", "data-id": area.id }, [
          el("div", { class: "title" }, [area.name, el("span", { class: "badge" + (area.action === "forbid" ? "" : " public"), text: EFFECT[area.action] })]),
          el("div", { class: "meta", text: when + (area.categories.length ? " · 类别 " + area.categories.join("、") : " · 全部类别") +
            (area.valid_to ? " · 至 " + area.valid_to.slice(0, 16).replace("T", " ") : "") })]);
        row.addEventListener("click", function () { load(area); });
        row.addEventListener("keydown", function (e) { if (e.key === "Enter") { load(area); } });
        list.appendChild(row);
      });
    });
  }

  /* ---- the precheck ---- */
  function loadCategories() {
    return G.api("GET", "/api/v1/categories").then(function (answer) {
      var pick = form.elements.categories, minor = check.elements.category, KIND = { component: "部件", event: "事件" };
      answer.categories.forEach(function (major) {
        var group = el("optgroup", { label: KIND[major.kind] + " " + major.code + " " + major.name });
        group.appendChild(el("option", { value: major.code, text: major.code + " " + major.name + "（整个大类）" }));
        var group2 = el("optgroup", { label: group.getAttribute("label") });
        major.children.forEach(function (m) {
          group.appendChild(el("option", { value: m.code, text: m.code + " " + m.name }));
          group2.appendChild(el("option", { value: major.kind + ":" + m.code, text: m.code + " " + m.name }));
        });
        pick.appendChild(group); minor.appendChild(group2);
      });
    });
  }

  document.getElementById("pick-point").addEventListener("click", function () {
    picking = !picking;
    this.setAttribute("aria-pressed", picking ? "true" : "false");
    if (picking) { setTool(null); map.getCanvas().style.cursor = "help"; }
  });

  function precheck(lngLat) {
    G.clearErrors(check);
    var chosen = check.elements.category.value.split(":");
    var body = { source: "inspector", kind: chosen[0], category: chosen[1], lon: lngLat.lng, lat: lngLat.lat, description: "" };
    G.api("POST", "/api/v1/cases/precheck", body).then(function (answer) {
      var box = document.getElementById("check-result");
      box.hidden = false; box.innerHTML = "";
      box.appendChild(el("div", {}, [el("b", { text: answer.allowed ? "可以上报" : "禁止上报", class: answer.allowed ? "" : "bad" })]));
      answer.rules.forEach(function (r) {
        box.appendChild(el("div", { text: r.action_name + "：" + r.name + (r.reason ? "（" + r.reason + "）" : "") }));
      });
      if (!answer.rules.length) { box.appendChild(el("div", { text: "此处没有管控规则。" })); }
      var at = answer.placement;
      if (at && at.unit_grid) {
        box.appendChild(el("div", { class: "small", text: [at.street && at.street.name, at.community && at.community.name, "单元网格 " + at.unit_grid]
          .filter(Boolean).join(" · ") }));
      }
      map.getSource("probe").setData({ type: "Feature", geometry: { type: "Point", coordinates: [lngLat.lng, lngLat.lat] },
        properties: { allowed: answer.allowed } });
    }, function (err) { G.showError(check, err); });
  }

  G.makeMap(function (style) {
    style = G.quiet(style);
    style.layers.forEach(function (l) {
      var key = l.metadata && l.metadata["citygrid:layer"];
      if (key === "controlled_areas" && l.type === "fill") { l.paint["fill-opacity"] = 0.25; }
      if (key === "controlled_areas" && l.type === "line") { l.paint["line-width"] = 2; }
      if (key === "unit_grids" && l.type === "line") { l.paint["line-color"] = "#adb5bd"; l.paint["line-width"] = 0.7; }
    });
    return style;
  }).then(function (m) {
    map = m;
    map.addSource("probe", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    map.addLayer({ id: "probe", type: "circle", source: "probe", paint: { "circle-radius": 8, "circle-stroke-width": 3,
      "circle-stroke-color": "#fff", "circle-color": ["case", ["get", "allowed"], "#2f9e44", "#e03131"] } });
    var TD = window.terraDraw;
    draw = new TD.TerraDraw({
      adapter: new window.terraDrawMaplibreGlAdapter.TerraDrawMapLibreGLAdapter({ map: map }),
      modes: [
        new TD.TerraDrawPolygonMode({ snapping: { toCustom: snapToGridCorner },
          styles: { fillColor: "#e03131", fillOpacity: 0.2, outlineColor: "#c92a2a", outlineWidth: 2 } }),
        new TD.TerraDrawSelectMode({ flags: { polygon: { feature: { draggable: true,
          coordinates: { midpoints: true, draggable: true, deletable: true } } } } })
      ]
    });
    draw.start();
    draw.on("finish", function () { setTool("select"); G.clearErrors(form); });
    document.querySelectorAll("[data-tool]").forEach(function (b) { b.addEventListener("click", function () { setTool(b.dataset.tool); }); });
    map.on("click", function (e) {
      if (!picking) { return; }
      picking = false;
      document.getElementById("pick-point").setAttribute("aria-pressed", "false");
      map.getCanvas().style.cursor = "";
      precheck(e.lngLat);
    });
    window.gisDraw = draw;
    return Promise.all([loadAreas(), loadCategories()]);
  }).then(function () { window.gisReady = true; });
})();
