/* The patrol route page (巡查路线): draw a route (a line) and its checkpoints (points) with
   terra-draw, give each checkpoint its name, radius, time window and visits, and save through
   the tracking routes API; existing routes are listed and drawn, and load for editing. */
(function () {
  "use strict";
  var G = window.GisAdmin, el = G.el;
  var map = null, draw = null, editing = null, routes = null;
  var form = document.getElementById("route");
  var ROUTE = "#0d9488";
  var details = {};  /* terra-draw point id -> {name, radius_m, window_start, window_end, required} */

  function setTool(tool) {
    draw.setMode(tool || "static");
    document.querySelectorAll("[data-tool]").forEach(function (b) { b.setAttribute("aria-pressed", b.dataset.tool === tool ? "true" : "false"); });
  }

  function points() {
    return draw.getSnapshot().filter(function (f) { return f.geometry.type === "Point" && f.properties.mode === "point"; });
  }
  function line() {
    return draw.getSnapshot().filter(function (f) { return f.geometry.type === "LineString"; })[0] || null;
  }

  function renderCheckpoints() {
    var list = document.getElementById("checkpoints"), found = points();
    list.innerHTML = "";
    document.getElementById("cp-count").textContent = found.length;
    found.forEach(function (f, i) {
      var d = details[f.id] = details[f.id] || { name: "巡查点" + (i + 1), radius_m: 30, window_start: "", window_end: "", required: 1 };
      function input(attrs, key) {
        var node = el("input", attrs);
        node.value = d[key] === null || d[key] === undefined ? "" : d[key];
        node.addEventListener("input", function () { d[key] = node.type === "number" ? parseFloat(node.value) : node.value; });
        return node;
      }
      list.appendChild(el("li", { "data-id": String(f.id) }, [
        el("div", { class: "cp-head" }, [el("b", { text: String(i + 1) }), input({ "aria-label": "巡查点名称", maxlength: "64" }, "name")]),
        el("div", { class: "row3" }, [
          el("label", {}, ["半径（米）", input({ type: "number", min: "5", max: "500", step: "5" }, "radius_m")]),
          el("label", {}, ["时段起", input({ type: "time" }, "window_start")]),
          el("label", {}, ["时段止", input({ type: "time" }, "window_end")])])]));
    });
  }

  function resetForm() {
    editing = null; details = {};
    form.reset(); G.clearErrors(form);
    if (draw) { draw.clear(); }
    renderCheckpoints();
    document.getElementById("route-title").textContent = "新建巡查路线";
    document.getElementById("save-route").textContent = "保存巡查路线";
  }

  document.getElementById("new-route").addEventListener("click", function () { resetForm(); setTool("linestring"); });
  document.getElementById("erase").addEventListener("click", function () { draw.clear(); details = {}; renderCheckpoints(); setTool("linestring"); });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    G.clearErrors(form);
    var f = form.elements, drawn = line();
    if (!drawn) { G.showError(form, { field: "line", message: "请先在地图上绘制路线（点“绘制路线”）" }); return; }
    if (!f.name.value.trim()) { G.showError(form, { field: "name", message: "请填写路线名称" }); return; }
    var checkpoints = points().map(function (p, i) {
      var d = details[p.id];
      var cp = { name: (d.name || "").trim() || ("巡查点" + (i + 1)), lon: p.geometry.coordinates[0], lat: p.geometry.coordinates[1],
        radius_m: d.radius_m || 30, order: i + 1, required: d.required || 1 };
      if (d.window_start || d.window_end) { cp.window_start = d.window_start || null; cp.window_end = d.window_end || null; }
      return cp;
    });
    var bad = checkpoints.filter(function (c) { return (c.window_start && !c.window_end) || (!c.window_start && c.window_end); })[0];
    if (bad) { G.showError(form, { field: "checkpoints", message: "“" + bad.name + "”的时段需同时填写起止时间" }); return; }
    var body = { name: f.name.value.trim(), line: drawn.geometry.coordinates, tolerance_m: parseFloat(f.tolerance_m.value) || null, checkpoints: checkpoints };
    var call = editing ? G.api("PATCH", "/api/v1/tracking/routes/" + editing, body) : G.api("POST", "/api/v1/tracking/routes", body);
    call.then(function () {
      G.toast((editing ? "已保存：" : "已建立：") + body.name);
      resetForm(); setTool(null);
      return loadRoutes();
    }, function (err) { G.showError(form, err); });
  });

  function loadRoutes() {
    return G.api("GET", "/api/v1/tracking/routes").then(function (fc) {
      routes = fc;
      map.getSource("routes").setData(fc);
      var list = document.getElementById("route-list");
      list.innerHTML = "";
      var lines = fc.features.filter(function (f) { return f.properties.kind === "route"; });
      if (!lines.length) { list.appendChild(el("li", { class: "meta", text: "还没有巡查路线。" })); }
      lines.forEach(function (r) {
        var cps = fc.features.filter(function (f) { return f.properties.kind === "checkpoint" && f.properties.route === r.properties.route; });
        var row = el("li", { tabindex: "0", "data-route": String(r.properties.route) }, [
          el("div", { class: "title" }, [r.properties.name, el("span", { class: "badge" + (r.properties.active ? " public" : ""), text: r.properties.active ? "启用" : "停用" })]),
          el("div", { class: "meta", text: cps.length + " 个巡查点 · 偏离 " + r.properties.tolerance_m + " 米报警 · 第 " + r.properties.version + " 版" })]);
        row.addEventListener("click", function () { load(r, cps); });
        row.addEventListener("keydown", function (e) { if (e.key === "Enter") { load(r, cps); } });
        list.appendChild(row);
      });
    });
  }

  function load(route, cps) {
    resetForm();
    editing = route.properties.route;
    form.elements.name.value = route.properties.name;
    form.elements.tolerance_m.value = route.properties.tolerance_m;
    var ids = draw.addFeatures([{ type: "Feature", geometry: route.geometry, properties: { mode: "linestring" } }].concat(
      cps.sort(function (a, b) { return a.properties.order - b.properties.order; }).map(function (c) {
        return { type: "Feature", geometry: c.geometry, properties: { mode: "point" } }; })));
    cps.forEach(function (c, i) {
      var id = ids[i + 1] && ids[i + 1].id;
      if (id !== undefined) { details[id] = { name: c.properties.name, radius_m: c.properties.radius_m,
        window_start: c.properties.window_start || "", window_end: c.properties.window_end || "", required: c.properties.required }; }
    });
    renderCheckpoints();
    setTool("select");
    document.getElementById("route-title").textContent = "修改巡查路线：" + route.properties.name;
    document.getElementById("save-route").textContent = "保存修改";
    var b = new maplibregl.LngLatBounds();
    route.geometry.coordinates.forEach(function (c) { b.extend(c); });
    map.fitBounds(b, { padding: 80, maxZoom: 17 });
  }

  G.makeMap(function (style) { return G.quiet(style); }).then(function (m) {
    map = m;
    map.addSource("routes", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    map.addLayer({ id: "routes-line", type: "line", source: "routes", filter: ["==", ["get", "kind"], "route"],
      paint: { "line-color": ROUTE, "line-width": 3, "line-dasharray": [3, 2], "line-opacity": 0.7 } });
    map.addLayer({ id: "routes-checkpoint", type: "circle", source: "routes", filter: ["==", ["get", "kind"], "checkpoint"],
      paint: { "circle-radius": 6, "circle-color": "#fff", "circle-stroke-color": ROUTE, "circle-stroke-width": 2.5 } });
    var TD = window.terraDraw;
    draw = new TD.TerraDraw({
      adapter: new window.terraDrawMaplibreGlAdapter.TerraDrawMapLibreGLAdapter({ map: map }),
      modes: [
        new TD.TerraDrawLineStringMode({ styles: { lineStringColor: "#0b7285", lineStringWidth: 4 } }),
        new TD.TerraDrawPointMode({ styles: { pointColor: "#e8590c", pointWidth: 7, pointOutlineColor: "#ffffff", pointOutlineWidth: 2 } }),
        new TD.TerraDrawSelectMode({ flags: {
          linestring: { feature: { draggable: true, coordinates: { midpoints: true, draggable: true, deletable: true } } },
          point: { feature: { draggable: true } } } })
      ]
    });
    draw.start();
    draw.on("finish", function () { G.clearErrors(form); renderCheckpoints(); });
    draw.on("change", function (ids, type) { if (type === "create" || type === "delete") { renderCheckpoints(); } });
    document.querySelectorAll("[data-tool]").forEach(function (b) { b.addEventListener("click", function () { setTool(b.dataset.tool); }); });
    window.gisDraw = draw;
    return loadRoutes();
  }).then(function () { window.gisReady = true; });
})();
