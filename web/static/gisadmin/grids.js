/* The responsibility grid page (责任网格): tick unit grids on the map, save them as a grid
   (POST, or PATCH when an existing grid was picked), and draw a grid as it was on a date. */
(function () {
  "use strict";
  var G = window.GisAdmin, el = G.el;
  var map = null, mode = "tick", ticked = {}, editing = null;  /* ticked: code -> holder {code, name} | null */
  var form = document.getElementById("grid"), historyForm = document.getElementById("history");
  var TICKED = "#e8590c", OLD = "#7048e8", SAVED = "#0ca678";

  function labelFont() {
    var found = null;
    map.getStyle().layers.forEach(function (l) { if (!found && l.layout && l.layout["text-font"]) { found = l.layout["text-font"]; } });
    return found || ["WenQuanYi Micro Hei Regular"];
  }

  function tickedCodes() { return Object.keys(ticked).sort(); }

  function render() {
    var codes = tickedCodes(), chips = document.getElementById("chips");
    chips.innerHTML = "";
    codes.forEach(function (code) {
      var holder = ticked[code];
      var text = code + (holder && (!editing || holder.code !== editing.code) ? "（原属 " + holder.name + "）" : "");
      chips.appendChild(el("span", { text: text }));
    });
    document.getElementById("count").textContent = codes.length;
    document.getElementById("grid-title").textContent = editing ? "编辑责任网格 " + editing.code : "新建责任网格";
    document.getElementById("save").textContent = editing ? "保存修改" : "保存责任网格";
    if (map && map.getLayer("ticked-fill")) {
      var filter = ["in", ["get", "code"], ["literal", codes]];
      map.setFilter("ticked-fill", filter);
      map.setFilter("ticked-line", filter);
    }
  }

  function setMode(next) {
    mode = next;
    document.querySelectorAll("[data-mode]").forEach(function (b) { b.setAttribute("aria-pressed", b.dataset.mode === mode ? "true" : "false"); });
    document.getElementById("mode-hint").textContent = mode === "tick"
      ? "在地图上点击单元网格勾选或取消；责任网格的范围是所选单元网格的并集，编码按“社区编码 + R + 序号”自动生成。"
      : "在地图上点击一个责任网格，载入它的名称和单元网格后修改。";
  }

  document.querySelectorAll("[data-mode]").forEach(function (b) { b.addEventListener("click", function () { setMode(b.dataset.mode); }); });
  document.getElementById("clear").addEventListener("click", function () {
    ticked = {}; editing = null; form.reset(); G.clearErrors(form); render();
  });

  function featuresAt(point, layer) {
    return map.queryRenderedFeatures(point).filter(function (f) { return f.sourceLayer === layer; });
  }

  function onClick(e) {
    var grids = featuresAt(e.point, "responsibility_grids");
    var holder = grids.length ? { code: grids[0].properties.code, name: grids[0].properties.name } : null;
    if (mode === "pick") {
      if (!holder) { G.toast("此处没有责任网格", true); return; }
      G.api("GET", "/api/v1/responsibility-grids/" + encodeURIComponent(holder.code)).then(function (grid) {
        editing = grid; ticked = {};
        grid.unit_grids.forEach(function (c) { ticked[c] = { code: grid.code, name: grid.name }; });
        form.elements.name.value = grid.name;
        setMode("tick"); render();
      }, function (err) { G.toast(err.message, true); });
      return;
    }
    var units = featuresAt(e.point, "unit_grids");
    if (!units.length) { G.toast("请点击单元网格", true); return; }
    var code = units[0].properties.code;
    if (ticked.hasOwnProperty(code)) { delete ticked[code]; } else { ticked[code] = holder; }
    G.clearErrors(form);
    render();
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    G.clearErrors(form);
    var name = form.elements.name.value.trim(), codes = tickedCodes();
    if (!name) { G.showError(form, { field: "name", message: "请填写责任网格名称" }); return; }
    if (!codes.length) { G.showError(form, { field: "unit_grids", message: "请在地图上勾选至少一个单元网格" }); return; }
    var body = { name: name, unit_grids: codes, move: form.elements.move.checked };
    var call = editing ? G.api("PATCH", "/api/v1/responsibility-grids/" + encodeURIComponent(editing.code), body)
      : G.api("POST", "/api/v1/responsibility-grids", body);
    call.then(function (grid) {
      var box = document.getElementById("saved");
      box.hidden = false;
      box.innerHTML = "";
      box.appendChild(el("div", {}, [el("b", { text: grid.code }), " " + grid.name]));
      box.appendChild(el("div", { text: (grid.street_name || "") + " · " + grid.unit_grids.length + " 个单元网格 · " +
        (grid.area_m2 / 10000).toFixed(2) + " 公顷" + (grid.parts > 1 ? " · 不连续（" + grid.parts + " 块）" : "") }));
      historyForm.elements.code.value = grid.code;
      map.getSource("saved").setData({ type: "Feature", geometry: grid.geometry, properties: { label: grid.name } });
      G.toast((editing ? "已保存 " : "已建立 ") + grid.code);
      ticked = {}; editing = null; form.reset(); render();
      reloadTiles();
    }, function (err) {
      if (err.status === 409 && /move/.test(err.message)) { err.message = "所选单元网格已属于其他责任网格，勾选“从原责任网格移出”后再保存。（" + err.message + "）"; }
      G.showError(form, err);
    });
  });

  function reloadTiles() {
    /* The tiles' ETag follows the layer version: asking again shows the new grid. */
    Object.keys(map.getStyle().sources).forEach(function (id) {
      var src = map.getSource(id);
      if (src && src.type === "vector" && src.setTiles) { src.setTiles(src.tiles.slice()); }
    });
  }

  historyForm.addEventListener("submit", function (e) {
    e.preventDefault();
    G.clearErrors(historyForm);
    var code = historyForm.elements.code.value.trim(), on = historyForm.elements.on.value;
    if (!code) { G.showError(historyForm, { field: "code", message: "请填写责任网格编码" }); return; }
    var path = "/api/v1/responsibility-grids/" + encodeURIComponent(code) + (on ? "?on=" + encodeURIComponent(on) : "");
    G.api("GET", path).then(function (grid) {
      map.getSource("history").setData(grid.geometry ? { type: "Feature", geometry: grid.geometry, properties: {} } : { type: "FeatureCollection", features: [] });
      var box = document.getElementById("history-result");
      box.hidden = false; box.innerHTML = "";
      box.appendChild(el("div", {}, [el("b", { text: grid.code }), " " + grid.name + (on ? "（" + on.replace("T", " ") + " 时）" : "（当前）")]));
      box.appendChild(el("div", { text: grid.unit_grids.length + " 个单元网格：" + grid.unit_grids.join("、") }));
      if (grid.geometry) {
        var b = new maplibregl.LngLatBounds();
        grid.geometry.coordinates.forEach(function (poly) { poly[0].forEach(function (p) { b.extend(p); }); });
        map.fitBounds(b, { padding: 80, maxZoom: 17 });
      }
    }, function (err) { G.showError(historyForm, err); });
  });

  document.getElementById("versions").addEventListener("click", function () {
    G.clearErrors(historyForm);
    var code = historyForm.elements.code.value.trim();
    if (!code) { G.showError(historyForm, { field: "code", message: "请填写责任网格编码" }); return; }
    G.api("GET", "/api/v1/responsibility-grids/" + encodeURIComponent(code) + "/history").then(function (answer) {
      var box = document.getElementById("history-result"), CHANGE = { before: "初始", created: "新建", edited: "修改", lost: "移出单元网格" };
      box.hidden = false; box.innerHTML = "";
      if (!answer.versions.length) { box.textContent = "该网格未经本页修改，没有历史版本。"; return; }
      answer.versions.forEach(function (v) {
        box.appendChild(el("div", { text: (v.valid_from ? v.valid_from.slice(0, 19).replace("T", " ") : "最初") + " 起 · " +
          CHANGE[v.change] + " · " + v.name + " · " + v.unit_grids.length + " 个单元网格" + (v.changed_by ? " · " + v.changed_by : "") }));
      });
    }, function (err) { G.showError(historyForm, err); });
  });

  G.makeMap(function (style) {
    style = G.quiet(style);
    style.layers.forEach(function (l) {
      var key = l.metadata && l.metadata["citygrid:layer"];
      if (key === "unit_grids" && l.type === "line") { l.paint["line-color"] = "#868e96"; l.paint["line-width"] = 0.8; }
      if (key === "unit_grids" && l.type === "fill") { l.paint["fill-opacity"] = 0.04; }
      if (key === "responsibility_grids" && l.type === "line") { l.paint["line-width"] = 2.2; }
      if (key === "responsibility_grids" && l.type === "fill") { l.paint["fill-opacity"] = 0.06; }
    });
    return style;
  }).then(function (m) {
    map = m;
    var source = map.getStyle().layers.filter(function (l) { return l["source-layer"] === "unit_grids"; })[0].source;
    var none = ["in", ["get", "code"], ["literal", []]];
    map.addLayer({ id: "ticked-fill", type: "fill", source: source, "source-layer": "unit_grids", filter: none,
      paint: { "fill-color": TICKED, "fill-opacity": 0.35 } });
    map.addLayer({ id: "ticked-line", type: "line", source: source, "source-layer": "unit_grids", filter: none,
      paint: { "line-color": TICKED, "line-width": 2.5 } });
    map.addSource("saved", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    map.addLayer({ id: "saved-fill", type: "fill", source: "saved", paint: { "fill-color": SAVED, "fill-opacity": 0.25 } });
    map.addLayer({ id: "saved-line", type: "line", source: "saved", paint: { "line-color": SAVED, "line-width": 3 } });
    map.addLayer({ id: "saved-label", type: "symbol", source: "saved", layout: { "text-field": ["get", "label"],
      "text-font": labelFont(), "text-size": 14 }, paint: { "text-color": "#0b7285", "text-halo-color": "#fff", "text-halo-width": 2 } });
    map.addSource("history", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
    map.addLayer({ id: "history-line", type: "line", source: "history",
      paint: { "line-color": OLD, "line-width": 3, "line-dasharray": [2, 1.5] } });
    map.on("click", onClick);
    map.getCanvas().style.cursor = "pointer";
    render();
    window.gisReady = true;
  });
})();
