/* The comprehensive evaluation page (综合评价): the rankings of a cycle (overall and per
   first-level indicator, filtered by object type, with or without advanced indicators), an
   object's score per indicator, the sample library on the map by type, and a sampling preview
   drawn on the map before any task exists. Reads /api/v1/evaluation/*; the only POST is the
   preview, which stores nothing. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("evaluation-config").textContent);
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var EMPTY = { type: "FeatureCollection", features: [] };
  var COLORS = { main_road: "#2563eb", back_alley: "#7c3aed", shopping_street: "#db2777", park: "#16a34a",
    square: "#ca8a04", market: "#ea580c", toilet: "#0891b2", station: "#4f46e5", water: "#0ea5e9",
    vendor_zone: "#f97316", community: "#94a3b8", crossing: "#dc2626" };
  var SOURCES = { platform: "平台上报", field: "实地考察", field_parent: "实地（上级）", survey: "问卷调查", self: "自评价" };
  var view = { types: {}, city: null, selected: null, ranking: null };

  var dom = window.CityGridDom, el = dom.el;
  function api(path, body) { return dom.json(path, body, cfg.csrfToken); }
  function toast(text) { dom.toast(text, 3500); }
  function fixed(n) { return n === null || n === undefined ? "—" : (Math.round(n * 10) / 10).toFixed(1); }
  function failed(e) { toast((e && e.message) || "请求失败"); }
  $("#who").textContent = cfg.name;

  /* --- rankings ---------------------------------------------------------------------------- */
  function query() {
    var q = "cycle=" + $("#cycle").value + "&advanced=" + ($("#advanced").checked ? "true" : "false");
    if ($("#kind").value) { q += "&kind=" + $("#kind").value; }
    return q;
  }
  function loadRanking() {
    if (!$("#cycle").value) { return Promise.resolve(); }
    $("#export").href = "/api/v1/evaluation/rankings/export?" + query();
    return api("/api/v1/evaluation/rankings?" + query()).then(renderRanking).catch(failed);
  }
  function renderRanking(data) {
    view.ranking = data;
    var head = el("tr", {}, [el("th", { text: "排名" }), el("th", { text: "评价对象" })]);
    data.indicators.forEach(function (i) { head.appendChild(el("th", { text: i.short_name, title: i.code })); });
    head.appendChild(el("th", { text: "总分" }));
    var thead = $("#ranking thead"), tbody = $("#ranking tbody");
    thead.replaceChildren(head);
    tbody.replaceChildren();
    var best = data.overall.length ? data.overall[0].score || 1 : 1;
    data.overall.forEach(function (row) {
      var tr = el("tr", { tabindex: "0", "data-object": row.object, class: row.object === view.selected ? "selected" : null,
        onclick: function () { select(row); }, onkeydown: function (e) { if (e.key === "Enter") { select(row); } } },
        [el("td", {}, [el("span", { class: "rank r" + row.rank, text: String(row.rank) })]), el("td", { text: row.name })]);
      data.indicators.forEach(function (i) { tr.appendChild(el("td", { text: fixed(row.indicators[i.code]) })); });
      tr.appendChild(el("td", { class: "total" }, [fixed(row.score),
        el("span", { class: "bar" }, [el("i", { style: "width:" + Math.max(2, 100 * row.score / best) + "%" })])]));
      tbody.appendChild(tr);
    });
    if (!data.overall.length) {
      tbody.appendChild(el("tr", {}, [el("td", { colspan: String(data.indicators.length + 3), class: "small",
        text: "该周期尚无评价结果。" })]));
    }
    $("#ranking-note").textContent = data.year + "年 · " + data.overall.length + " 个对象" +
      (data.advanced ? "" : " · 不含提高指标");
  }
  function select(row) {
    view.selected = row.object;
    document.querySelectorAll("#ranking tbody tr").forEach(function (tr) {
      tr.classList.toggle("selected", Number(tr.getAttribute("data-object")) === row.object);
    });
    api("/api/v1/evaluation/results/objects/" + row.object + "?cycle=" + $("#cycle").value).then(function (data) {
      var list = el("ul", { class: "tree" });
      list.appendChild(el("li", { class: "small" }, [el("span", { text: "指标" }), el("span", { class: "num", text: "得分/满分" }),
        el("span", { class: "num", text: "来源" })]));
      data.results.forEach(function (r) {
        var full = r.full_score ? "/" + fixed(r.full_score) : "";
        list.appendChild(el("li", { class: "l" + r.level, title: r.value === null ? "" : "指标值 " + fixed(r.value) }, [
          el("span", { text: r.indicator + " " + r.short_name }), el("span", { class: "num", text: fixed(r.score) + full }),
          el("span", { class: "num src", text: SOURCES[r.source] || "" })]));
      });
      $("#detail").replaceChildren(el("h3", { text: row.name + " · 第" + row.rank + "名 · " + fixed(row.score) + " 分" }), list);
    }).catch(failed);
  }
  ["#cycle", "#kind", "#advanced"].forEach(function (id) { $(id).addEventListener("change", loadRanking); });
  $("#filters").addEventListener("submit", function (e) { e.preventDefault(); });

  /* --- map --------------------------------------------------------------------------------- */
  var map = null, font = null;
  var mapReady = fetch(cfg.styleUrl, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (style) {
      font = CityGridBase.labelFont(style);
      style = CityGridBase.calm(style, {});
      map = new maplibregl.Map({ container: "map", style: style, center: cfg.center, zoom: cfg.zoom,
        localIdeographFontFamily: CityGridBase.ideographs });
      map.addControl(new maplibregl.NavigationControl(), "top-right");
      map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
      window.evaluationMap = map;
      return new Promise(function (resolve) { map.on("load", resolve); });
    });

  function typeColor() {
    var expr = ["match", ["get", "type_code"]];
    Object.keys(COLORS).forEach(function (k) { expr.push(k, COLORS[k]); });
    expr.push("#64748b");
    return expr;
  }
  function isShape(kinds) { return ["in", ["geometry-type"], ["literal", kinds]]; }

  mapReady.then(function () {
    map.addSource("samples", { type: "geojson", data: EMPTY });
    map.addSource("drawn", { type: "geojson", data: EMPTY });
    map.addSource("drawn-labels", { type: "geojson", data: EMPTY });
    map.addLayer({ id: "sample-area", type: "fill", source: "samples", filter: isShape(["Polygon", "MultiPolygon"]),
      paint: { "fill-color": typeColor(),
        "fill-opacity": ["case", ["==", ["get", "type_code"], "community"], 0.05, 0.25] } });
    map.addLayer({ id: "sample-line", type: "line", source: "samples", filter: isShape(["LineString", "MultiLineString"]),
      layout: { "line-cap": "round", "line-join": "round" },
      paint: { "line-color": typeColor(), "line-width": ["interpolate", ["linear"], ["zoom"], 12, 1.5, 17, 5], "line-opacity": 0.55 } });
    map.addLayer({ id: "sample-point", type: "circle", source: "samples", filter: isShape(["Point"]),
      paint: { "circle-color": typeColor(), "circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 2.5, 17, 6],
        "circle-opacity": 0.7, "circle-stroke-color": "#fff", "circle-stroke-width": 0.8 } });
    map.addLayer({ id: "drawn-area", type: "line", source: "drawn", filter: isShape(["Polygon", "MultiPolygon"]),
      paint: { "line-color": "#111827", "line-width": 2.5 } });
    map.addLayer({ id: "drawn-line", type: "line", source: "drawn", filter: isShape(["LineString", "MultiLineString"]),
      layout: { "line-cap": "round" }, paint: { "line-color": "#111827", "line-width": 5, "line-opacity": 0.85 } });
    map.addLayer({ id: "drawn-point", type: "circle", source: "drawn-labels",
      paint: { "circle-radius": 9, "circle-color": "#ffffff", "circle-stroke-color": "#111827", "circle-stroke-width": 2.5 } });
    map.addLayer({ id: "drawn-rank", type: "symbol", source: "drawn-labels",
      layout: { "text-field": ["to-string", ["get", "rank"]], "text-font": font, "text-size": 11, "text-allow-overlap": true },
      paint: { "text-color": "#111827" } });
    map.addLayer({ id: "drawn-name", type: "symbol", source: "drawn-labels", minzoom: 14,
      layout: { "text-field": ["get", "name"], "text-font": font, "text-size": 12, "text-offset": [0, 1.4], "text-anchor": "top" },
      paint: { "text-color": "#1f2933", "text-halo-color": "#ffffff", "text-halo-width": 1.5 } });
    map.on("click", "sample-point", popup);
    map.on("click", "sample-line", popup);
    ["sample-point", "sample-line"].forEach(function (id) {
      map.on("mouseenter", id, function () { map.getCanvas().style.cursor = "pointer"; });
      map.on("mouseleave", id, function () { map.getCanvas().style.cursor = ""; });
    });
  });

  function popup(e) {
    var f = e.features[0], type = view.types[f.properties.sample_type];
    new maplibregl.Popup({ closeButton: false }).setLngLat(e.lngLat)
      .setText((type ? type.name + "：" : "") + f.properties.name).addTo(map);
  }

  function withTypeCodes(data) {
    data.features.forEach(function (f) {
      var type = view.types[f.properties.sample_type];
      f.properties.type_code = type ? type.code : "";
    });
    return data;
  }

  function loadSamples() {
    if (!view.city) { return Promise.resolve(); }
    return Promise.all([api("/api/v1/evaluation/samples?limit=10000&object=" + view.city.id), mapReady]).then(function (r) {
      map.getSource("samples").setData(withTypeCodes(r[0]));
      legend(r[0]);
      fit(r[0]);
    }).catch(failed);
  }

  /* Frames the sample library: the evaluated city's extent. */
  function fit(data) {
    var box = null;
    function add(c) {
      if (typeof c[0] === "number") {
        box = box ? [Math.min(box[0], c[0]), Math.min(box[1], c[1]), Math.max(box[2], c[0]), Math.max(box[3], c[1])]
          : [c[0], c[1], c[0], c[1]];
      } else { c.forEach(add); }
    }
    data.features.forEach(function (f) { add(f.geometry.coordinates); });
    if (box) { map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { padding: 40, duration: 0, maxZoom: 16 }); }
  }

  function legend(data) {
    var counts = {};
    data.features.forEach(function (f) { counts[f.properties.type_code] = (counts[f.properties.type_code] || 0) + 1; });
    var box = $(".legend") || $("#map").appendChild(el("div", { class: "legend", "aria-label": "图例" }));
    box.replaceChildren();
    Object.keys(view.types).forEach(function (id) {
      var t = view.types[id];
      if (!counts[t.code]) { return; }
      var shape = t.shape === "line" ? "line" : t.shape === "polygon" ? "area" : "";
      box.appendChild(el("span", {}, [el("i", { class: shape, style: "background:" + (COLORS[t.code] || "#64748b") }),
        t.name + " " + counts[t.code]]));
    });
    box.appendChild(el("span", {}, [el("i", { class: "drawn" }), "抽中样本"]));
  }

  /* --- the draw ------------------------------------------------------------------------------ */
  function labelPoint(geometry) {
    var c = geometry.coordinates;
    if (geometry.type === "Point") { return c; }
    if (geometry.type === "LineString") { return c[Math.floor(c.length / 2)]; }
    if (geometry.type === "MultiLineString") { var l = c[0]; return l[Math.floor(l.length / 2)]; }
    var ring = geometry.type === "Polygon" ? c[0] : c[0][0], x = 0, y = 0;
    ring.forEach(function (p) { x += p[0]; y += p[1]; });
    return [x / ring.length, y / ring.length];
  }

  $("#draw-form").addEventListener("submit", function (e) {
    e.preventDefault();
    if (!view.city) { toast("没有可抽样的评价对象"); return; }
    var body = { object: view.city.id, sample_type: Number($("#sample-type").value), count: Number($("#count").value),
      min_distance_m: Number($("#distance").value || 0), seed: Number($("#seed").value || 0), stratify: $("#stratify").checked };
    api("/api/v1/evaluation/sampling/preview", body).then(function (data) {
      var labels = data.features.map(function (f) {
        return { type: "Feature", geometry: { type: "Point", coordinates: labelPoint(f.geometry) },
          properties: { rank: f.properties.rank, name: f.properties.name } };
      });
      mapReady.then(function () {
        map.getSource("drawn").setData(data);
        map.getSource("drawn-labels").setData({ type: "FeatureCollection", features: labels });
      });
      var strata = data.strata.filter(function (s) { return s.drawn > 0 && s.street !== null; }).length;
      $("#draw-summary").textContent = "从 " + data.available + " 个样本中抽中 " + data.drawn + " 个，覆盖 " + strata + " 个街道。";
      $("#draw-list").replaceChildren.apply($("#draw-list"), data.features.map(function (f, k) {
        return el("li", { tabindex: "0", text: f.properties.name, onclick: function () {
          map.flyTo({ center: labels[k].geometry.coordinates, zoom: 16 });
        }, onkeydown: function (ev) { if (ev.key === "Enter") { map.flyTo({ center: labels[k].geometry.coordinates, zoom: 16 }); } } });
      }));
    }).catch(failed);
  });

  /* --- start --------------------------------------------------------------------------------- */
  Promise.all([
    api("/api/v1/evaluation/config/cycles"),
    api("/api/v1/evaluation/config/sample-types"),
    api("/api/v1/evaluation/config/objects?kind=city"),
  ]).then(function (r) {
    r[0].items.forEach(function (c) { $("#cycle").appendChild(el("option", { value: c.id, text: c.name })); });
    r[1].items.forEach(function (t) {
      view.types[t.id] = t;
      $("#sample-type").appendChild(el("option", { value: t.id, text: t.name }));
    });
    view.city = r[2].items[0] || null;
    return Promise.all([loadRanking(), loadSamples()]);
  }).catch(failed);
})();
