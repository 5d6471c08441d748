/* The wall screen (/screen, 运行监督大屏): the city map with switchable case views and the
   panels around it, all from /api/v1/screen/… for the chosen period, refreshed live from the case
   stream (SSE on the stream server). Every number opens the cases behind it in the drawer. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("screen-config").textContent);
  var $ = function (s) { return document.querySelector(s); };
  var MEASURES = [["reported", "上报"], ["registered", "立案"], ["closed", "结案"], ["open", "在办"], ["overdue", "超期"]];
  var ACTIONS = { report: "上报", accept: "受理", not_accept: "不予受理", register: "立案", not_register: "不予立案",
    dispatch: "派遣", redispatch: "重新派遣", feedback: "处置反馈", request_check: "派发核查", check: "核查", close: "结案",
    rework: "返工", request_verify: "派发核实", verify: "核实", supervise: "督办", reply_supervision: "督办回复",
    request_supplement: "补采", supplement: "补采回复", edit: "修改", annotate: "批注", archive: "归档" };
  var SOURCE_LABELS = { inspector: "监督员上报", public: "公众举报", hotline: "12345热线", video: "视频监控",
    leader: "领导交办", survey: "专项普查", media: "媒体曝光" };
  var LEVEL_NAMES = { district: "区", street: "街道", community: "社区", grid: "单元网格" };
  var state = { period: "today", from: null, to: null, view: "heat", theme: "dark", crumbs: [], answered: null,
    latestIds: {}, charts: {}, periodInfo: null };
  var params = new URLSearchParams(location.search);
  if (params.get("theme") === "light") { state.theme = "light"; }
  if (params.get("view")) { state.view = params.get("view"); }
  if (params.get("period")) { state.period = params.get("period"); state.from = params.get("from"); state.to = params.get("to"); }

  var dom = window.CityGridDom, el = dom.el;
  function api(path) { return dom.json(path); }
  function selection() {
    var q = new URLSearchParams({ period: state.period });
    if (state.period === "custom") { q.set("from", state.from); q.set("to", state.to); }
    return q;
  }
  function withSelection(extra) {
    var q = selection();
    Object.keys(extra || {}).forEach(function (k) { if (extra[k] !== null && extra[k] !== undefined && extra[k] !== "") { q.set(k, extra[k]); } });
    return q.toString();
  }
  function fmt(n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString("zh-CN"); }
  function pct(n) { return n === null || n === undefined ? "–" : (n > 0 ? "+" : "") + n.toFixed(1) + "%"; }
  function hhmm(iso) { return iso ? iso.slice(5, 16).replace("T", " ") : ""; }
  /* The period as dates (its last day, the end being exclusive), or as times within a day. */
  function periodText(from, to) {
    var last = new Date(new Date(to).getTime() - 1);
    var day = function (d) { return d.getFullYear() + "-" + ("0" + (d.getMonth() + 1)).slice(-2) + "-" + ("0" + d.getDate()).slice(-2); };
    var first = new Date(from);
    if (day(first) === day(last)) { return day(first) + (state.period === "today" ? " 今日" : ""); }
    return day(first) + " 至 " + day(last);
  }
  function dark() { return state.theme === "dark"; }
  function palette() {
    return dark() ? { ink: "#e6f0ff", muted: "#8fa6c4", line: "rgba(84,160,255,.18)", a: "#38bdf8", b: "#f59e0b", c: "#34d399", d: "#a78bfa", e: "#f87171" }
      : { ink: "#1f2933", muted: "#616e7c", line: "#e4e7eb", a: "#1c64f2", b: "#d97706", c: "#059669", d: "#7c3aed", e: "#dc2626" };
  }

  /* --- charts (ECharts) ----------------------------------------------------------------- */
  function chart(id) {
    var node = document.getElementById(id);
    var existing = state.charts[id];
    if (existing && existing.__theme === state.theme) { return existing; }
    if (existing) { existing.dispose(); }
    var made = echarts.init(node, dark() ? "dark" : null, { renderer: "canvas" });
    made.__theme = state.theme;
    state.charts[id] = made;
    return made;
  }
  function base(extra) {
    var p = palette();
    return Object.assign({ backgroundColor: "transparent", textStyle: { color: p.ink, fontFamily: "WenQuanYi Micro Hei" },
      grid: { left: 8, right: 12, top: 28, bottom: 4, containLabel: true }, animationDuration: 400,
      tooltip: { trigger: "axis", confine: true } }, extra);
  }
  window.addEventListener("resize", function () { Object.keys(state.charts).forEach(function (k) { state.charts[k].resize(); }); });

  /* --- the drawer: the cases behind a count, and one case ----------------------------------- */
  function openCases(title, extra) {
    var q = withSelection(Object.assign({ limit: 200 }, extra));
    $("#drawer").hidden = false;
    $("#drawer-title").textContent = title + " · 加载中…";
    $("#drawer-detail").hidden = true;
    var list = $("#drawer-list");
    list.innerHTML = "";
    return api("/api/v1/screen/cases?" + q).then(function (answer) {
      $("#drawer-title").textContent = title + " · " + answer.count + " 件" + (answer.count > answer.cases.length ? "（显示前 " + answer.cases.length + " 件）" : "");
      answer.cases.forEach(function (c) { list.appendChild(caseRow(c)); });
      if (!answer.cases.length) { list.appendChild(el("li", { class: "muted", text: "没有案件" })); }
      showPins(answer.cases);
      return answer;
    }).catch(function (e) { $("#drawer-title").textContent = title + " · " + e.message; });
  }
  function caseRow(c) {
    var thumb = c.thumbnail ? el("img", { class: "thumb", src: c.thumbnail, alt: "", loading: "lazy" }) : el("span", { class: "thumb", text: "无图" });
    var row = el("li", { class: "case-row", tabindex: "0", "data-case": c.id, "data-number": c.number, onclick: function () { showCase(c.id); },
      onkeydown: function (e) { if (e.key === "Enter") { showCase(c.id); } } }, [thumb,
      el("div", {}, [
        el("div", { class: "t1" }, [el("span", { class: "tag src", text: c.source_name }), el("b", { text: c.category + " · " + (c.address || c.street || "") }),
          c.deadline_state === "overdue" ? el("span", { class: "tag overdue", text: "超期" }) : null]),
        el("div", { class: "t2", text: c.number + " · " + c.state_name + " · " + hhmm(c.reported_at) + (c.street ? " · " + c.street : "") })])]);
    return row;
  }
  function showCase(id) {
    var box = $("#drawer-detail");
    $("#drawer").hidden = false;
    box.hidden = false;
    box.innerHTML = "加载中…";
    Promise.all([api("/api/v1/cases/" + id), api("/api/v1/cases/" + id + "/history"), api("/api/v1/cases/" + id + "/media")])
      .then(function (answers) {
        var c = answers[0], events = answers[1].events, media = answers[2].media;
        var p = c.placement;
        box.innerHTML = "";
        box.appendChild(el("h3", { text: c.number + " " + c.category.name }));
        var dl = el("dl");
        [["状态", c.state_name], ["来源", SOURCE_LABELS[c.source] || c.source], ["位置", [p.district && p.district.name, p.street && p.street.name, p.community && p.community.name].filter(Boolean).join(" · ")],
          ["地址", c.address], ["描述", c.description], ["部门", c.department && c.department.name], ["上报", hhmm(c.reported_at)], ["时限", hhmm(c.deadline)]]
          .forEach(function (r) { if (r[1]) { dl.appendChild(el("dt", { text: r[0] })); dl.appendChild(el("dd", { text: r[1] })); } });
        box.appendChild(dl);
        var photos = el("div", { class: "photos" });
        media.filter(function (m) { return m.content_type.indexOf("image/") === 0; }).forEach(function (m) {
          photos.appendChild(el("img", { src: m.url, alt: m.stage, title: m.stage }));
        });
        if (photos.children.length) { box.appendChild(photos); }
        box.appendChild(el("ol", {}, events.map(function (e) {
          return el("li", { text: hhmm(e.at) + " " + e.actor + (e.department ? "（" + e.department + "）" : "") + " " + (ACTIONS[e.action] || e.action) + (e.opinion ? "：" + e.opinion : "") });
        })));
        flyTo([c.lon, c.lat]);
      }).catch(function (e) { box.textContent = e.message; });
  }
  $("#drawer-close").addEventListener("click", function () { $("#drawer").hidden = true; showPins([]); });
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { $("#drawer").hidden = true; showPins([]); } });

  /* --- the map ---------------------------------------------------------------------------- */
  var map = null, labelFont = ["WenQuanYi Micro Hei Regular"], mapReady;
  var pin = null;
  function darken(style) {
    style.layers.forEach(function (l) {
      l.paint = l.paint || {};
      if (l.type === "background") { l.paint["background-color"] = "#06101f"; }
      else if (l.type === "line" && /-casing$/.test(l.id)) { l.paint["line-color"] = "#0c1a2e"; }
      else if (l.type === "line") {
        var key = l.metadata && l.metadata["citygrid:layer"];
        l.paint["line-color"] = key === "roads" ? "#1b2d47" : "#35506f";
      } else if (l.type === "symbol") {
        l.paint["text-color"] = "#7f97b5"; l.paint["text-halo-color"] = "#06101f";
      } else if (l.type === "fill") { l.paint["fill-color"] = "#0b1a30"; }
    });
    return style;
  }
  function loadStyle() {
    return fetch(cfg.styleUrl.replace("{variant}", state.theme), { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (style) {
        style = CityGridBase.calm(style, {});
        labelFont = CityGridBase.labelFont(style);
        return dark() ? darken(style) : style;
      });
  }
  mapReady = loadStyle().then(function (style) {
    map = new maplibregl.Map({ container: "map", style: style, center: cfg.center, zoom: cfg.zoom, attributionControl: { compact: true },
      localIdeographFontFamily: CityGridBase.ideographs, fadeDuration: 0 });
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
    window.screenMap = map;
    fitArea(0);
    return new Promise(function (resolve) { map.on("load", function () { addLayers(); resolve(map); }); });
  });

  /* The caller's area fills the map between the two columns of panels. */
  function fitArea(duration) {
    if (!cfg.bounds) { return; }
    var side = document.getElementById("left").getBoundingClientRect().width + 30;
    var top = document.getElementById("topbar").getBoundingClientRect().height + 20;
    map.fitBounds([[cfg.bounds[0], cfg.bounds[1]], [cfg.bounds[2], cfg.bounds[3]]],
      { padding: { left: side, right: side, top: top, bottom: 60 }, duration: duration || 0 });
  }

  function caseTiles() {
    var info = state.periodInfo;
    var q = new URLSearchParams();
    if (info) { q.set("since", info.from); q.set("until", info.to); }
    q.set("v", String(state.tilesVersion || 0));
    return [location.origin + "/tiles/cases/{z}/{x}/{y}.mvt?" + q.toString()];
  }
  var COUNT = ["coalesce", ["get", "point_count"], 1];
  function addLayers() {
    var p = palette();
    map.addSource("cases", { type: "vector", tiles: caseTiles(), minzoom: 0, maxzoom: 16 });
    map.addLayer({ id: "heat", type: "heatmap", source: "cases", "source-layer": "cases", paint: {
      "heatmap-weight": ["interpolate", ["linear"], ["ln", ["+", 1, COUNT]], 0, 0, 3.5, 1],
      "heatmap-intensity": ["interpolate", ["linear"], ["zoom"], 9, 0.7, 12, 1, 15, 1.6],
      /* Below z15 the tiles hold grid clusters (cells of ~24 px): a radius of about two cells
         merges them into one surface instead of a lattice of dots. */
      "heatmap-radius": ["interpolate", ["linear"], ["zoom"], 9, 50, 12, 75, 14.9, 70, 15, 34, 17, 30],
      "heatmap-opacity": dark() ? 0.85 : 0.75,
      "heatmap-color": ["interpolate", ["linear"], ["heatmap-density"], 0, "rgba(0,0,0,0)", 0.15, "rgba(37,99,235,.55)",
        0.35, "#22d3ee", 0.55, "#a3e635", 0.75, "#facc15", 0.9, "#f97316", 1, "#ef4444"] } });
    map.addLayer({ id: "glow-halo", type: "circle", source: "cases", "source-layer": "cases", paint: {
      "circle-radius": ["+", 9, ["*", 4.5, ["sqrt", COUNT]]], "circle-blur": 1,
      "circle-color": dark() ? "#22d3ee" : "#2563eb", "circle-opacity": dark() ? 0.6 : 0.35 } });
    map.addLayer({ id: "glow-mid", type: "circle", source: "cases", "source-layer": "cases", paint: {
      "circle-radius": ["+", 3, ["*", 1.4, ["sqrt", COUNT]]], "circle-blur": 0.8,
      "circle-color": dark() ? "#67e8f9" : "#3b82f6", "circle-opacity": 0.8 } });
    map.addLayer({ id: "glow-core", type: "circle", source: "cases", "source-layer": "cases", paint: {
      "circle-radius": ["+", 1.5, ["*", 0.5, ["sqrt", COUNT]]], "circle-color": dark() ? "#e0fbff" : "#1e40af", "circle-blur": 0.3 } });
    map.addLayer({ id: "clusters", type: "circle", source: "cases", "source-layer": "cases", paint: {
      "circle-radius": ["step", COUNT, 6, 2, 11, 10, 15, 50, 20, 200, 26],
      "circle-color": ["match", ["get", "deadline_state"], "overdue", p.e, "warning", p.b, p.a],
      "circle-opacity": 0.85, "circle-stroke-color": dark() ? "#06101f" : "#ffffff", "circle-stroke-width": 1.5 } });
    map.addLayer({ id: "cluster-count", type: "symbol", source: "cases", "source-layer": "cases",
      filter: [">", COUNT, 1], layout: { "text-field": ["to-string", COUNT], "text-font": labelFont, "text-size": 12, "text-allow-overlap": true },
      paint: { "text-color": "#ffffff" } });
    map.addSource("hotspots", { type: "geojson", data: empty() });
    map.addLayer({ id: "hotspots", type: "fill", source: "hotspots", paint: {
      "fill-color": ["match", ["get", "confidence"], 99, "#d7191c", 95, "#f46d43", 90, "#fdae61", -90, "#abd9e9", -95, "#74add1", -99, "#2c7bb6", "rgba(0,0,0,0)"],
      "fill-opacity": 0.62 } });
    map.addLayer({ id: "hotspot-lines", type: "line", source: "hotspots", paint: {
      "line-color": ["match", ["get", "category"], "new", dark() ? "#ffffff" : "#111827", "intensifying", "#fde047", "persistent", "#fb923c", "consecutive", "#f0abfc", dark() ? "#0b1a30" : "#ffffff"],
      "line-width": ["match", ["get", "category"], ["new", "intensifying", "persistent", "consecutive"], 2.2, 0.4] } });
    map.addSource("flows", { type: "geojson", data: empty(), lineMetrics: true });
    map.addSource("flow-ends", { type: "geojson", data: empty() });
    map.addLayer({ id: "flows", type: "line", source: "flows", layout: { "line-cap": "round" }, paint: {
      "line-width": ["interpolate", ["linear"], ["get", "count"], 1, 1.5, 50, 6],
      "line-gradient": ["interpolate", ["linear"], ["line-progress"], 0, p.b, 1, p.a], "line-opacity": 0.9 } });
    map.addLayer({ id: "flow-ends", type: "circle", source: "flow-ends", paint: {
      "circle-radius": ["match", ["get", "end"], "to", 7, 4], "circle-color": ["match", ["get", "end"], "to", p.a, p.b],
      "circle-stroke-color": "#ffffff", "circle-stroke-width": 1 } });
    map.addLayer({ id: "flow-labels", type: "symbol", source: "flow-ends", filter: ["==", ["get", "end"], "to"],
      layout: { "text-field": ["get", "name"], "text-font": labelFont, "text-size": 13, "text-offset": [0, 1.2] },
      paint: { "text-color": p.ink, "text-halo-color": dark() ? "#06101f" : "#ffffff", "text-halo-width": 1.5 } });
    map.addSource("pins", { type: "geojson", data: empty() });
    map.addLayer({ id: "pins", type: "circle", source: "pins", paint: { "circle-radius": 6, "circle-color": p.b,
      "circle-stroke-color": "#ffffff", "circle-stroke-width": 2 } });
    ["clusters", "glow-core", "pins"].forEach(function (id) {
      map.on("click", id, onCaseClick);
      map.on("mouseenter", id, function () { map.getCanvas().style.cursor = "pointer"; });
      map.on("mouseleave", id, function () { map.getCanvas().style.cursor = ""; });
    });
    map.on("click", "hotspots", function (e) {
      var f = e.features[0].properties;
      if (state.view !== "hotspots") { return; }
      openCases("单元网格 " + f.code + "（" + f.category_name + "，Gi* z=" + f.z + "）", { level: "grid", code: f.code });
    });
    setView(state.view);
  }
  function empty() { return { type: "FeatureCollection", features: [] }; }
  function onCaseClick(e) {
    var f = e.features[0];
    var count = f.properties.point_count || 1;
    if (count > 1) { map.easeTo({ center: e.lngLat, zoom: Math.min(map.getZoom() + 2, 16) }); return; }
    var id = f.id || f.properties.id;
    if (id) { showCase(id); }
  }
  function flyTo(at) {
    mapReady.then(function () {
      map.flyTo({ center: at, zoom: Math.max(map.getZoom(), 15), speed: 1.4 });
      if (pin) { pin.remove(); }
      pin = new maplibregl.Marker({ color: palette().b }).setLngLat(at).addTo(map);
    });
  }
  function showPins(cases) {
    mapReady.then(function () {
      map.getSource("pins").setData({ type: "FeatureCollection", features: cases.map(function (c) {
        return { type: "Feature", id: c.id, geometry: { type: "Point", coordinates: [c.lon, c.lat] }, properties: { id: c.id } };
      }) });
    });
  }
  var VIEW_LAYERS = { heat: ["heat"], glow: ["glow-halo", "glow-mid", "glow-core"], clusters: ["clusters", "cluster-count"],
    flows: ["flows", "flow-ends", "flow-labels", "glow-core"], hotspots: ["hotspots", "hotspot-lines"] };
  var ALL_VIEW_LAYERS = ["heat", "glow-halo", "glow-mid", "glow-core", "clusters", "cluster-count", "flows", "flow-ends", "flow-labels", "hotspots", "hotspot-lines"];
  function setView(view) {
    state.view = view;
    document.querySelectorAll("#views button").forEach(function (b) { b.classList.toggle("on", b.dataset.view === view); });
    if (!map || !map.getLayer("heat")) { return; }
    ALL_VIEW_LAYERS.forEach(function (id) { map.setLayoutProperty(id, "visibility", VIEW_LAYERS[view].indexOf(id) >= 0 ? "visible" : "none"); });
    if (view === "flows") { loadFlows(); }
    if (view === "hotspots") { loadHotSpots(); }
    legend();
  }
  document.querySelectorAll("#views button").forEach(function (b) { b.addEventListener("click", function () { setView(b.dataset.view); }); });

  function legend() {
    var box = $("#legend");
    box.innerHTML = "";
    if (state.view === "hotspots") {
      box.appendChild(el("p", { text: "热点：对每个单元网格计算 Getis-Ord Gi* 统计量——该网格连同相邻网格的案件数显著高于（红）或低于（蓝）全区平均，颜色越深置信度越高；描边为新兴热点类别。" }));
      var row = el("div", { class: "row" });
      [["#d7191c", "热点 99%"], ["#f46d43", "95%"], ["#fdae61", "90%"], ["#abd9e9", "冷点 90%"], ["#74add1", "95%"], ["#2c7bb6", "99%"]].forEach(function (r) {
        row.appendChild(el("span", {}, [el("i", { style: "background:" + r[0] }), r[1]]));
      });
      [[dark() ? "#ffffff" : "#111827", "新热点"], ["#fde047", "加强热点"], ["#fb923c", "持续热点"], ["#f0abfc", "连续热点"]].forEach(function (r) {
        row.appendChild(el("span", {}, [el("i", { style: "border:2px solid " + r[0] + ";background:transparent" }), r[1]]));
      });
      box.appendChild(row);
      if (state.hotInfo) { box.appendChild(el("p", { class: "muted", text: state.hotInfo })); }
    } else if (state.view === "flows") {
      box.appendChild(el("p", { text: "迁徙图：线从案件所在街道指向承办的专业部门，线越粗派遣越多。" }));
    } else if (state.view === "heat") {
      box.appendChild(el("p", { text: "热力图：本周期上报案件的密度，由蓝到红逐渐密集。" }));
    } else if (state.view === "glow") {
      box.appendChild(el("p", { text: "荧光图：每个亮点是一处案件或一组相邻案件，越亮越多。" }));
    } else {
      box.appendChild(el("p", { text: "聚类图：圆中数字为案件数，点击放大；红色含超期案件，橙色含预警案件。" }));
    }
  }

  function arc(a, b) {
    var dx = b[0] - a[0], dy = b[1] - a[1], points = [];
    var mx = (a[0] + b[0]) / 2 - dy * 0.25, my = (a[1] + b[1]) / 2 + dx * 0.25;
    for (var i = 0; i <= 24; i++) {
      var t = i / 24, u = 1 - t;
      points.push([u * u * a[0] + 2 * u * t * mx + t * t * b[0], u * u * a[1] + 2 * u * t * my + t * t * b[1]]);
    }
    return points;
  }
  function loadFlows() {
    return Promise.all([mapReady, api("/api/v1/screen/flows?" + selection())]).then(function (r) {
      var lines = r[1].lines, ends = {};
      map.getSource("flows").setData({ type: "FeatureCollection", features: lines.map(function (l) {
        ends["f" + l.from.code] = { type: "Feature", geometry: { type: "Point", coordinates: l.from.at }, properties: { end: "from", name: l.from.name } };
        ends["t" + l.to.code] = { type: "Feature", geometry: { type: "Point", coordinates: l.to.at }, properties: { end: "to", name: l.to.name } };
        return { type: "Feature", geometry: { type: "LineString", coordinates: arc(l.from.at, l.to.at) }, properties: { count: l.count } };
      }) });
      map.getSource("flow-ends").setData({ type: "FeatureCollection", features: Object.keys(ends).map(function (k) { return ends[k]; }) });
    });
  }
  function loadHotSpots() {
    return Promise.all([mapReady, api("/api/v1/screen/hotspots?" + selection())]).then(function (r) {
      var answer = r[1], c = answer.confidence;
      map.getSource("hotspots").setData(answer);
      var hot = (c["99"] || 0) + (c["95"] || 0) + (c["90"] || 0), cold = (c["-99"] || 0) + (c["-95"] || 0) + (c["-90"] || 0);
      state.hotInfo = answer.cells + " 个单元网格中热点 " + hot + " 个（99% " + (c["99"] || 0) + "），冷点 " + cold + " 个" +
        (answer.trend ? "；按" + { hour: "小时", day: "日", month: "月" }[answer.slice] + "分 " + answer.slices + " 段判断新兴趋势" : "");
      $("#hot-note").textContent = "Gi* 热点 " + hot + " 个";
      legend();
    });
  }

  /* --- panels ------------------------------------------------------------------------------ */
  function loadCensus() {
    var top = state.crumbs[state.crumbs.length - 1];
    var q = withSelection(top ? { level: top.level, parent: top.parent } : { level: "district" });
    return api("/api/v1/screen/census?" + q).then(function (answer) {
      state.periodInfo = { from: answer.from, to: answer.to };
      if (!top && !state.crumbsTouched && answer.areas.length === 1 && answer.next_level) {
        /* a city of one district: open its streets at once */
        state.crumbs.push({ level: answer.next_level, parent: answer.areas[0].code, name: answer.areas[0].name, parentLevel: answer.level });
        return loadCensus();
      }
      $("#period-label").textContent = periodText(answer.from, answer.to);
      renderCrumbs();
      renderCensusTable(answer);
      renderCensusChart(answer);
      if (state.charts["census-chart"]) { state.charts["census-chart"].resize(); }
      return answer;
    });
  }
  function renderCrumbs() {
    var nav = $("#crumbs");
    nav.innerHTML = "";
    nav.appendChild(el("button", { type: "button", text: "全市", onclick: function () { state.crumbs = []; state.crumbsTouched = true; loadCensus(); } }));
    state.crumbs.forEach(function (c, i) {
      nav.appendChild(el("span", { text: "›" }));
      nav.appendChild(el("button", { type: "button", text: c.name, onclick: function () { state.crumbs = state.crumbs.slice(0, i + 1); loadCensus(); } }));
    });
  }
  function drill(answer, row) {
    if (!answer.next_level) { openCases(row.name, { level: answer.level, code: row.code }); return; }
    state.crumbs.push({ level: answer.next_level, parent: row.code, name: row.name, parentLevel: answer.level });
    loadCensus();
  }
  function countButton(title, n, extra) {
    return el("button", { type: "button", class: "link", "data-count": String(n), text: fmt(n), onclick: function () { openCases(title, extra); } });
  }
  function renderCensusTable(answer) {
    var head = el("tr", {}, [el("th", { text: LEVEL_NAMES[answer.level] })].concat(MEASURES.map(function (m) { return el("th", { text: m[1] }); })));
    var body = el("tbody");
    answer.areas.forEach(function (row) {
      var name = el("button", { type: "button", class: "link area", text: row.name || row.code, title: answer.next_level ? "下钻到" + LEVEL_NAMES[answer.next_level] : "查看案件",
        onclick: function () { drill(answer, row); } });
      body.appendChild(el("tr", { "data-code": row.code }, [el("td", {}, [name])].concat(MEASURES.map(function (m) {
        return el("td", { class: m[0] === "overdue" && row[m[0]] ? "bad" : "" }, [countButton((row.name || row.code) + " · " + m[1], row[m[0]], { level: answer.level, code: row.code, measure: m[0] })]);
      }))));
    });
    var top = state.crumbs[state.crumbs.length - 1];
    var whole = top ? { level: top.parentLevel, code: top.parent } : {};
    var foot = el("tfoot", {}, [el("tr", {}, [el("td", { text: "合计" })].concat(MEASURES.map(function (m) {
      return el("td", {}, [countButton((top ? top.name : "全市") + " · " + m[1], answer.total[m[0]], Object.assign({ measure: m[0] }, whole))]);
    })))]);
    var table = el("table", {}, [el("thead", {}, [head]), body, foot]);
    if (!answer.areas.length) { body.appendChild(el("tr", {}, [el("td", { colspan: "6", class: "muted", text: "本周期没有案件" })])); }
    $("#census-table").innerHTML = "";
    $("#census-table").appendChild(table);
  }
  function renderCensusChart(answer) {
    if ($("#census-chart").hidden) { return; }
    var p = palette(), rows = answer.areas.slice(0, 14);
    var c = chart("census-chart");
    c.off("click");
    c.setOption(base({ legend: { top: 0, textStyle: { color: p.muted } }, color: [p.a, p.b, p.c],
      xAxis: { type: "category", data: rows.map(function (r) { return r.name || r.code; }), axisLabel: { color: p.muted, interval: 0, rotate: rows.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", splitLine: { lineStyle: { color: p.line } }, axisLabel: { color: p.muted } },
      series: MEASURES.slice(0, 3).map(function (m) { return { name: m[1], type: "bar", barMaxWidth: 18, data: rows.map(function (r) { return r[m[0]]; }) }; }) }), true);
    c.on("click", function (e) { drill(answer, rows[e.dataIndex]); });
  }
  /* 图表 / 表格: both (the table above its chart), the chart alone, the table alone. */
  var CENSUS_MODES = [["both", "仅图表"], ["chart", "仅表格"], ["table", "图表+表格"]];
  var censusMode = 0;
  $("#census-switch").addEventListener("click", function (e) {
    censusMode = (censusMode + 1) % CENSUS_MODES.length;
    var mode = CENSUS_MODES[censusMode][0];
    $("#census-chart").hidden = mode === "table";
    $("#census-table").hidden = mode === "chart";
    $("#census-table").style.maxHeight = mode === "both" ? "" : "none";
    e.target.textContent = CENSUS_MODES[censusMode][1];
    if (state.charts["census-chart"]) { state.charts["census-chart"].resize(); }
    if (mode !== "table") { loadCensus(); }
  });

  function loadIndex() {
    return api("/api/v1/screen/index?" + selection()).then(function (answer) {
      var p = palette();
      $("#index-value").textContent = fmt(answer.index);
      var yoy = $("#index-yoy"), mom = $("#index-mom");
      yoy.textContent = pct(answer.year_on_year_pct); mom.textContent = pct(answer.month_on_month_pct);
      yoy.className = answer.year_on_year_pct > 0 ? "up" : answer.year_on_year_pct < 0 ? "down" : "";
      mom.className = answer.month_on_month_pct > 0 ? "up" : answer.month_on_month_pct < 0 ? "down" : "";
      var reported = answer.trend.reduce(function (s, t) { return s + t.reported; }, 0);
      var rep = $("#index-reported");
      rep.textContent = fmt(reported);
      rep.onclick = function () { openCases("本周期上报", {}); };
      $("#index-note").textContent = answer.stages.map(function (s) { return s.name + " " + s.count; }).join(" · ");
      var labels = answer.trend.map(function (t) { return answer.slice === "hour" ? t.at.slice(11, 13) + "时" : answer.slice === "day" ? t.at.slice(5, 10) : t.at.slice(0, 7); });
      var c = chart("index-chart");
      c.off("click");
      c.setOption(base({ legend: { top: 0, textStyle: { color: p.muted } }, color: [p.b, p.a, p.d, p.c],
        xAxis: { type: "category", data: labels, axisLabel: { color: p.muted } },
        yAxis: { type: "value", splitLine: { lineStyle: { color: p.line } }, axisLabel: { color: p.muted }, minInterval: 1 },
        series: [
          { name: "本期指数", type: "line", smooth: true, symbolSize: 5, areaStyle: { opacity: 0.18 }, data: answer.trend.map(function (t) { return t.index; }) },
          { name: "同比", type: "line", smooth: true, symbol: "none", lineStyle: { type: "dashed" }, data: answer.trend.map(function (t) { return t.year_before; }) },
          { name: "环比", type: "line", smooth: true, symbol: "none", lineStyle: { type: "dotted" }, data: answer.trend.map(function (t) { return t.period_before; }) },
          { name: "上报", type: "bar", barMaxWidth: 8, data: answer.trend.map(function (t) { return t.reported; }) }] }), true);
      c.on("click", function (e) {
        var slice = answer.trend[e.dataIndex], next = answer.trend[e.dataIndex + 1];
        var saved = { period: state.period, from: state.from, to: state.to };
        state.period = "custom"; state.from = slice.at; state.to = next ? next.at : answer.to;
        openCases(labels[e.dataIndex] + " 上报的案件", {});
        state.period = saved.period; state.from = saved.from; state.to = saved.to;
      });
    });
  }

  $("#sources-switch").addEventListener("click", function (e) {
    var toTable = $("#sources-table").hidden;
    $("#sources-table").hidden = !toTable;
    $("#sources-chart").hidden = toTable;
    e.target.textContent = toTable ? "图表" : "表格";
    e.target.setAttribute("aria-pressed", String(toTable));
    if (!toTable) { state.charts["sources-chart"].resize(); }
  });
  var SOURCE_NAMES = {};
  function loadSources() {
    return api("/api/v1/screen/sources?" + selection()).then(function (answer) {
      var p = palette();
      answer.sources.forEach(function (s) { SOURCE_NAMES[s.source] = s.name; });
      fillSourceFilter();
      var c = chart("sources-chart");
      c.off("click");
      var stageColours = [p.a, "#60a5fa", p.d, p.b, "#f472b6", p.c, p.muted];
      c.setOption(base({ legend: { top: 0, textStyle: { color: p.muted }, itemWidth: 10, itemHeight: 8 }, color: stageColours,
        tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true },
        yAxis: { type: "category", inverse: true, data: answer.sources.map(function (s) { return s.name; }), axisLabel: { color: p.ink } },
        xAxis: { type: "value", splitLine: { lineStyle: { color: p.line } }, axisLabel: { color: p.muted }, minInterval: 1 },
        series: answer.stages.map(function (st) {
          return { name: st.name, type: "bar", stack: "all", barMaxWidth: 14, data: answer.sources.map(function (s) { return s.stages[st.key]; }) };
        }) }), true);
      c.on("click", function (e) {
        var s = answer.sources[e.dataIndex], st = answer.stages[e.seriesIndex];
        openCases(s.name + " · " + st.name, { source: s.source, stage: st.key });
      });
      var body = el("tbody");
      answer.sources.forEach(function (s) {
        body.appendChild(el("tr", {}, [el("td", { text: s.name })].concat(MEASURES.map(function (m) {
          return el("td", {}, [countButton(s.name + " · " + m[1], s[m[0]], { source: s.source, measure: m[0] })]);
        }))));
      });
      if (!answer.sources.length) { body.appendChild(el("tr", {}, [el("td", { colspan: "6", class: "muted", text: "本周期没有案件" })])); }
      var head = el("tr", {}, [el("th", { text: "来源" })].concat(MEASURES.map(function (m) { return el("th", { text: m[1] }); })));
      $("#sources-table").innerHTML = "";
      $("#sources-table").appendChild(el("table", {}, [el("thead", {}, [head]), body]));
      if (!$("#sources-chart").hidden) { c.resize(); }
    });
  }
  function fillSourceFilter() {
    var select = $("#latest-source");
    Object.keys(SOURCE_NAMES).forEach(function (k) {
      if (!select.querySelector("option[value='" + k + "']")) { select.appendChild(el("option", { value: k, text: SOURCE_NAMES[k] })); }
    });
  }

  function loadHot() {
    return api("/api/v1/screen/hot?" + selection()).then(function (answer) {
      var p = palette();
      var c = chart("hot-hours");
      c.off("click");
      c.setOption(base({ title: { text: "上报时段", textStyle: { color: p.muted, fontSize: 12, fontWeight: "normal" }, left: 0, top: 0 },
        xAxis: { type: "category", data: answer.by_hour.map(function (h) { return h.hour; }), axisLabel: { color: p.muted, interval: 3 } },
        yAxis: { type: "value", splitLine: { lineStyle: { color: p.line } }, axisLabel: { color: p.muted }, minInterval: 1 },
        series: [{ type: "bar", name: "上报", barMaxWidth: 10, itemStyle: { color: new echarts.graphic.LinearGradient(0, 0, 0, 1, [{ offset: 0, color: p.b }, { offset: 1, color: p.a }]) },
          data: answer.by_hour.map(function (h) { return h.reported; }) }] }), true);
      c.on("click", function (e) { openCases(e.dataIndex + " 时上报", { hour: e.dataIndex }); });
      var list = $("#hot-types");
      list.innerHTML = "";
      var most = answer.by_type.length ? answer.by_type[0].reported : 1;
      answer.by_type.slice(0, 8).forEach(function (t) {
        list.appendChild(el("li", {}, [el("button", { type: "button", class: "link name", text: t.name, title: "立案 " + t.registered + " · 结案 " + t.closed,
          onclick: function () { openCases(t.name, { category: t.code }); } }),
          countButton(t.name, t.reported, { category: t.code }),
          el("span", { class: "meter" }, [el("i", { style: "width:" + Math.round(t.reported / most * 100) + "%" })])]));
      });
      if (!answer.by_type.length) { list.appendChild(el("li", { class: "muted", text: "本周期没有案件" })); }
    });
  }

  function loadComponents() {
    return api("/api/v1/screen/components").then(function (answer) {
      var p = palette(), census = answer.census;
      var c = chart("components-chart");
      c.off("click");
      if (!census) { $("#components-total").textContent = "无权查看部件"; return; }
      $("#components-total").textContent = "共 " + fmt(census.count) + " 个";
      c.setOption(base({ tooltip: { trigger: "item", confine: true, formatter: "{b}<br>{c} 个（{d}%）" },
        color: [p.a, p.b, p.c, p.d, p.e, "#60a5fa", "#f472b6", "#2dd4bf"],
        legend: { type: "scroll", orient: "vertical", right: 0, top: "middle", itemWidth: 10, itemHeight: 8,
          textStyle: { color: p.ink, fontSize: 11, width: 70, overflow: "truncate" }, pageTextStyle: { color: p.muted } },
        series: [{ type: "pie", radius: ["38%", "68%"], center: ["30%", "52%"], minAngle: 3,
          label: { show: false }, emphasis: { label: { show: true, color: p.ink, fontSize: 12, formatter: "{c}" } },
          data: census.by_major.map(function (m) { return { name: m.name, value: m.count, code: m.code }; }) }] }), true);
      c.on("click", function (e) { showMinors(census, e.data.code, e.data.name); });
    });
  }
  function showMinors(census, major, name) {
    $("#drawer").hidden = false;
    $("#drawer-detail").hidden = true;
    $("#drawer-title").textContent = "部件 · " + name;
    var list = $("#drawer-list");
    list.innerHTML = "";
    census.by_minor.filter(function (m) { return m.major_code === major; }).forEach(function (m) {
      list.appendChild(el("li", { class: "case-row", tabindex: "0", onclick: function () { componentList(m); },
        onkeydown: function (e) { if (e.key === "Enter") { componentList(m); } } },
        [el("span", { class: "thumb", text: m.code }), el("div", {}, [el("div", { class: "t1" }, [el("b", { text: m.name })]),
          el("div", { class: "t2", text: fmt(m.count) + " 个 · 密度 " + (m.density_per_km2 || 0).toFixed(1) + " 个/km²" })])]));
    });
  }
  function componentList(minor) {
    api("/api/v1/screen/components?category=" + minor.code + "&limit=200").then(function (answer) {
      $("#drawer-title").textContent = "部件 · " + minor.name + " · " + fmt(minor.count) + " 个" + (minor.count > answer.components.length ? "（显示前 " + answer.components.length + " 个）" : "");
      var list = $("#drawer-list");
      list.innerHTML = "";
      answer.components.forEach(function (k) {
        list.appendChild(el("li", { class: "case-row", tabindex: "0", onclick: function () { flyTo([k.lon, k.lat]); },
          onkeydown: function (e) { if (e.key === "Enter") { flyTo([k.lon, k.lat]); } } },
          [el("span", { class: "thumb", text: "定位" }), el("div", {}, [el("div", { class: "t1" }, [el("b", { text: k.name || k.category.name })]),
            el("div", { class: "t2", text: k.code + " · " + k.status })])]));
      });
      showPins(answer.components);
    });
  }

  var STATUS = [["online", "在线"], ["busy", "忙碌"], ["offline", "离线"]];
  function loadInspectors() {
    return api("/api/v1/screen/inspectors").then(function (answer) {
      var box = $("#inspector-counts");
      box.innerHTML = "";
      STATUS.forEach(function (s) { box.appendChild(el("div", { class: "kpi" }, [el("b", { text: fmt(answer.people[s[0]]) }), el("span", { text: s[1] })])); });
      box.appendChild(el("div", { class: "kpi" }, [el("b", { class: answer.open_alarms ? "up" : "", text: fmt(answer.open_alarms) }), el("span", { text: "报警中" })]));
      var list = $("#alarms");
      list.innerHTML = "";
      answer.alarms.slice(0, 12).forEach(function (a) {
        list.appendChild(el("li", { class: a.open ? "" : "ended" }, [el("span", { class: "k", text: a.kind_label }), el("span", { class: "n", text: a.name }),
          el("span", { class: "muted", text: hhmm(a.started_at).slice(6) })]));
      });
      if (!answer.alarms.length) { list.appendChild(el("li", { class: "muted", text: "暂无报警" })); }
    }).catch(function () { $("#inspector-counts").textContent = "无权查看"; });
  }

  function loadLatest(freshCase) {
    var q = withSelection({ limit: 40, source: $("#latest-source").value, kind: $("#latest-kind").value });
    return api("/api/v1/screen/cases?" + q).then(function (answer) {
      var list = $("#latest-list"), roller = $("#latest");
      list.innerHTML = "";
      var seen = state.latestIds, first = !Object.keys(seen).length;
      state.latestIds = {};
      answer.cases.forEach(function (c) {
        var row = caseRow(c);
        if ((!first && !seen[c.id]) || c.id === freshCase) { row.classList.add("fresh"); }
        state.latestIds[c.id] = true;
        list.appendChild(row);
      });
      if (!answer.cases.length) { list.appendChild(el("li", { class: "muted", text: "本周期没有案件" })); }
      /* Rolling: the list twice, scrolled by half its height, when it is taller than the panel. */
      roller.classList.remove("rolling");
      if (list.scrollHeight > roller.clientHeight + 8) {
        answer.cases.forEach(function (c) { var copy = caseRow(c); copy.setAttribute("aria-hidden", "true"); copy.tabIndex = -1; list.appendChild(copy); });
        roller.style.setProperty("--roll-s", Math.max(20, answer.cases.length * 3) + "s");
        roller.classList.add("rolling");
      }
    });
  }
  $("#latest-source").addEventListener("change", function () { loadLatest(); });
  $("#latest-kind").addEventListener("change", function () { loadLatest(); });

  /* --- period, theme, live ------------------------------------------------------------------ */
  function refreshAll() {
    var census = loadCensus().then(function () {
      mapReady.then(function () { var src = map.getSource("cases"); if (src) { src.setTiles(caseTiles()); } });
    });
    var jobs = [census, loadIndex(), loadSources(), loadHot(), loadLatest()];
    if (state.view === "flows") { jobs.push(loadFlows()); }
    if (state.view === "hotspots") { jobs.push(loadHotSpots()); }
    return Promise.all(jobs).then(function () { document.body.dataset.loaded = "yes"; }).catch(function (e) { console.error(e); });
  }
  document.querySelectorAll("#periods button").forEach(function (b) {
    b.addEventListener("click", function () {
      if (b.dataset.period === "custom") { $("#custom").hidden = false; $("#custom input").focus(); return; }
      $("#custom").hidden = true;
      setPeriod(b.dataset.period);
    });
  });
  $("#custom").addEventListener("submit", function (e) {
    e.preventDefault();
    var f = e.target;
    state.from = f.from.value; state.to = f.to.value;
    setPeriod("custom");
  });
  function setPeriod(kind) {
    state.period = kind;
    document.querySelectorAll("#periods button").forEach(function (x) { x.classList.toggle("on", x.dataset.period === kind); });
    state.crumbs = [];
    refreshAll();
  }
  document.querySelectorAll("#periods button").forEach(function (x) { x.classList.toggle("on", x.dataset.period === state.period); });

  function applyTheme() {
    document.body.className = "theme-" + state.theme;
    $("#theme").textContent = dark() ? "浅色" : "深色";
  }
  $("#theme").addEventListener("click", function () {
    state.theme = dark() ? "light" : "dark";
    applyTheme();
    mapReady.then(function () {
      return loadStyle().then(function (style) {
        map.setStyle(style);
        map.once("style.load", function () { addLayers(); refreshAll(); loadComponents(); loadInspectors(); });
      });
    });
  });
  $("#fullscreen").addEventListener("click", function () {
    if (document.fullscreenElement) { document.exitFullscreen(); } else if (document.documentElement.requestFullscreen) { document.documentElement.requestFullscreen(); }
  });
  function tick() {
    var now = new Date();
    $("#clock").textContent = now.toLocaleDateString("zh-CN") + " " + now.toLocaleTimeString("zh-CN", { hour12: false });
  }
  setInterval(tick, 1000); tick();
  $("#who").textContent = cfg.name;

  function listen() {
    if (!window.EventSource) { return; }
    var source = new EventSource(cfg.streamUrl, { withCredentials: true });
    source.addEventListener("open", function () { $("#live").className = "live on"; });
    source.addEventListener("error", function () { $("#live").className = "live off"; });
    var quick = null, slow = null;
    source.addEventListener("case", function (message) {
      var event = JSON.parse(message.data);
      clearTimeout(quick); clearTimeout(slow);
      quick = setTimeout(function () { loadLatest(event.case); }, 250);
      slow = setTimeout(function () {   /* a burst of events refreshes the numbers once */
        state.tilesVersion = (state.tilesVersion || 0) + 1;
        loadCensus().then(function () { mapReady.then(function () { map.getSource("cases").setTiles(caseTiles()); }); });
        loadIndex(); loadSources(); loadHot();
        if (state.view === "hotspots") { loadHotSpots(); }
        if (state.view === "flows") { loadFlows(); }
      }, 1500);
    });
  }

  applyTheme();
  refreshAll();
  loadComponents();
  loadInspectors();
  setInterval(loadInspectors, 30000);
  listen();
})();
