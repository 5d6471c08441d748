/* The inspector monitor (监督员监控): live positions by status (online, busy with open tasks,
   offline, alarm) over the responsibility grids and the patrol routes with their checkpoints,
   the alarm list live over the stream server with acknowledgement, a follow list kept per user,
   a card per tracker and track playback. Reads /api/v1/tracking/*; the only write is
   POST /api/v1/tracking/alarms/{id}/acknowledge. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("monitor-config").textContent);
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var KINDS = { out_of_grid: "越界", long_stay: "滞留", signal_lost: "信号丢失", speeding: "超速", absent: "缺勤",
    off_route: "偏离路线", checkpoint_missed: "漏巡" };
  var KIND_TITLES = { out_of_grid: "离开责任网格", long_stay: "滞留", signal_lost: "信号丢失", speeding: "超速", absent: "缺勤（排班在岗但无定位）",
    off_route: "车辆偏离路线", checkpoint_missed: "巡查点漏巡（时段内未到达）" };
  var STATUS = { online: "在线", busy: "忙碌", offline: "离线", alarm: "报警中" };
  var SPEEDS = [1, 4, 16];
  var BASE_RATE = 60;  /* 1× plays one minute of the track per second */
  var EMPTY = { type: "FeatureCollection", features: [] };

  var view = { trackers: {}, alarms: [], seenAlarms: null, fresh: {}, selected: null, ackOpen: null,
    follow: loadFollow(), play: null, routes: {} };

  /* --- helpers --------------------------------------------------------------------------- */
  var dom = window.CityGridDom, el = dom.el, toast = dom.toast;
  function api(path, body) { return dom.json(path, body, cfg.csrfToken); }
  var TZ = "Asia/Shanghai";
  function clock(iso) {
    return new Date(iso).toLocaleTimeString("zh-CN", { timeZone: TZ, hour12: false });
  }
  function stamp(iso) {
    var d = new Date(iso);
    var day = d.toLocaleDateString("zh-CN", { timeZone: TZ, month: "2-digit", day: "2-digit" });
    var today = new Date().toLocaleDateString("zh-CN", { timeZone: TZ, month: "2-digit", day: "2-digit" });
    return (day === today ? "" : day + " ") + clock(iso);
  }
  function minutes(seconds) {
    var m = Math.round(seconds / 60);
    return m >= 60 ? Math.floor(m / 60) + "小时" + (m % 60) + "分" : m + "分钟";
  }
  /* The local (Beijing) day of an ISO date "YYYY-MM-DD" as [from, to) instants. */
  function dayRange(day) {
    var from = new Date(day + "T00:00:00+08:00");
    return [from, new Date(from.getTime() + 86400000)];
  }
  function todayString() {
    return new Date().toLocaleDateString("sv-SE", { timeZone: TZ });
  }
  /* Activates on click and on Enter or Space, for rows that act as buttons. */
  function activate(node, fn) {
    node.addEventListener("click", fn);
    node.addEventListener("keydown", function (e) {
      if ((e.key === "Enter" || e.key === " ") && e.target === node) { e.preventDefault(); fn(e); }
    });
  }

  /* --- trackers: live positions ---------------------------------------------------------- */
  function statusOf(t) {
    if (t.open_alarms && t.open_alarms.length) { return "alarm"; }
    var fresh = Date.now() - new Date(t.t).getTime() < cfg.onlineSeconds * 1000;
    if (!fresh) { return "offline"; }
    return t.open_tasks > 0 ? "busy" : "online";
  }
  function loadLive() {
    return api("/api/v1/tracking/live").then(function (data) {
      var next = {};
      data.features.forEach(function (f) {
        var t = f.properties;
        t.lon = f.geometry.coordinates[0]; t.lat = f.geometry.coordinates[1];
        next[t.tracker] = t;
      });
      view.trackers = next;
      render();
    }).catch(function (error) { toast(error.message); });
  }
  function trackerList() {
    return Object.keys(view.trackers).map(function (k) { return view.trackers[k]; });
  }
  var ORDER = { alarm: 0, busy: 1, online: 2, offline: 3 };
  function sorted(list) {
    return list.slice().sort(function (a, b) {
      return (ORDER[statusOf(a)] - ORDER[statusOf(b)]) || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0) ||
        a.name.localeCompare(b.name, "zh-CN");
    });
  }
  function trackerRow(t, where) {
    var status = statusOf(t), followed = view.follow.indexOf(t.tracker) >= 0;
    var row = el("li", { tabindex: "0", "data-tracker": String(t.tracker), class: t.tracker === view.selected ? "selected" : "",
      "aria-label": t.name + " " + STATUS[status] }, [
      el("div", { class: "line1" }, [
        el("span", { class: "dot " + status + (t.kind === "vehicle" ? " vehicle" : ""), "aria-hidden": "true" }),
        el("span", { class: "who", text: t.name }),
        el("span", { class: "small", text: STATUS[status] }),
        el("button", { type: "button", class: "pin", title: followed ? "取消关注" : "关注",
          "aria-label": (followed ? "取消关注 " : "关注 ") + t.name, "aria-pressed": String(followed), text: followed ? "★" : "☆",
          onclick: function (e) { e.stopPropagation(); toggleFollow(t.tracker); } })
      ]),
      el("div", { class: "small", text: (t.kind === "vehicle" ? (t.vehicle_type || "车辆") + " · " : "") +
        "最后定位 " + stamp(t.t) + (t.battery != null ? " · 电量 " + t.battery + "%" : "") })
    ]);
    activate(row, function () { select(t.tracker, true); });
    return row;
  }
  function renderLists() {
    var q = $("#q").value.trim();
    var all = sorted(trackerList());
    var list = $("#tracker-list");
    list.textContent = "";
    all.filter(function (t) { return !q || t.name.indexOf(q) >= 0 || t.device.indexOf(q) >= 0; })
      .forEach(function (t) { list.appendChild(trackerRow(t)); });
    if (!list.children.length) { list.appendChild(el("li", { class: "empty", text: q ? "没有匹配的人员" : "暂无定位" })); }
    var follow = $("#follow-list");
    follow.textContent = "";
    all.filter(function (t) { return view.follow.indexOf(t.tracker) >= 0; })
      .forEach(function (t) { follow.appendChild(trackerRow(t)); });
    if (!follow.children.length) { follow.appendChild(el("li", { class: "empty", text: "在人员卡片或列表中点 ☆ 关注，固定在这里。" })); }
    var counts = { online: 0, busy: 0, offline: 0, alarm: 0 };
    all.forEach(function (t) { counts[statusOf(t)] += 1; });
    var summary = $("#summary");
    summary.textContent = "";
    ["online", "busy", "alarm", "offline"].forEach(function (s) {
      summary.appendChild(el("b", { class: "s-" + s, text: STATUS[s] + " " + counts[s] }));
    });
  }
  function render() {
    renderLists();
    showOnMap();
    if (view.selected && view.trackers[view.selected]) { renderCard(); }
  }

  /* --- follow list (per user, in this browser) -------------------------------------------- */
  function followKey() { return "citygrid.inspectors.follow." + cfg.user; }
  function loadFollow() {
    try { return JSON.parse(localStorage.getItem(followKey()) || "[]"); } catch (e) { return []; }
  }
  function toggleFollow(id) {
    var at = view.follow.indexOf(id);
    if (at >= 0) { view.follow.splice(at, 1); } else { view.follow.push(id); }
    try { localStorage.setItem(followKey(), JSON.stringify(view.follow)); } catch (ignored) { /* private mode */ }
    render();
  }

  /* --- alarms ---------------------------------------------------------------------------- */
  function loadAlarms() {
    var since = dayRange(todayString())[0].toISOString();
    var q = "since=" + encodeURIComponent(since) + "&limit=200" + ($("#open-only").checked ? "&open=true" : "");
    return api("/api/v1/tracking/alarms?" + q).then(function (data) {
      if (view.seenAlarms) {
        data.alarms.forEach(function (a) { if (!view.seenAlarms[a.id]) { view.fresh[a.id] = true; } });
      }
      view.seenAlarms = view.seenAlarms || {};
      data.alarms.forEach(function (a) { view.seenAlarms[a.id] = true; });
      view.alarms = data.alarms;
      renderAlarms();
      if (view.selected) { renderCard(); }
    }).catch(function (error) { toast(error.message); });
  }
  function alarmTimes(a) {
    return stamp(a.started_at) + " 起 · " + (a.ended_at ? stamp(a.ended_at) + " 止（" +
      minutes((new Date(a.ended_at) - new Date(a.started_at)) / 1000) + "）" : "进行中");
  }
  /* What a patrol alarm is about: the checkpoint missed, how far off the route. */
  function alarmDetail(a) {
    var d = a.details || {};
    if (a.kind === "checkpoint_missed") {
      var when = d.window_start ? clock(d.window_start).slice(0, 5) + "–" + clock(d.window_end).slice(0, 5) : "";
      return el("div", { class: "small", text: "巡查点 " + (d.name || "") + (when ? "（" + when + "）" : "") +
        " 到达 " + (d.visits || 0) + "/" + (d.required || 1) + " 次" + (d.visited_at ? " · 已补到 " + stamp(d.visited_at) : "") });
    }
    if (a.kind === "off_route" && d.max_off_m != null) {
      return el("div", { class: "small", text: "最远偏离路线 " + Math.round(d.max_off_m) + " 米（容差 " + d.tolerance_m + " 米）" });
    }
    return null;
  }
  function renderAlarms() {
    var list = $("#alarm-list");
    var focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("#alarm-list li");
    var focusId = focused ? focused.getAttribute("data-alarm") : null;
    list.textContent = "";
    view.alarms.forEach(function (a) {
      var row = el("li", { tabindex: "0", "data-alarm": String(a.id), "data-kind": a.kind,
        class: (view.fresh[a.id] ? "fresh " : "") + (a.tracker === view.selected ? "selected" : ""),
        "aria-label": KIND_TITLES[a.kind] + " " + a.name + " " + (a.open ? "进行中" : "已结束") }, [
        el("div", { class: "line1" }, [
          el("span", { class: "kind" + (a.open ? "" : " ended"), title: KIND_TITLES[a.kind], text: KINDS[a.kind] || a.kind_label }),
          el("span", { class: "who", text: a.name }),
          a.acknowledged_at ? el("span", { class: "acked", text: "已处理" + (a.justified ? "·合理" : "") }) :
            (cfg.canAcknowledge ? el("button", { type: "button", "data-ack": String(a.id), text: "处理",
              onclick: function (e) { e.stopPropagation(); view.ackOpen = view.ackOpen === a.id ? null : a.id; renderAlarms(); } }) : null)
        ]),
        el("div", { class: "small time", text: alarmTimes(a) }),
        alarmDetail(a),
        a.note ? el("div", { class: "small", text: "意见：" + a.note + (a.acknowledged_by ? "（" + a.acknowledged_by + "）" : "") }) : null,
        view.ackOpen === a.id && !a.acknowledged_at ? ackForm(a) : null
      ]);
      activate(row, function (e) { if (!e.target.closest(".ack")) { select(a.tracker, true); } });
      list.appendChild(row);
    });
    if (!view.alarms.length) { list.appendChild(el("li", { class: "empty", text: "今日暂无报警" })); }
    if (focusId) { var again = list.querySelector("li[data-alarm='" + focusId + "']"); if (again) { again.focus(); } }
  }
  function ackForm(a) {
    var note = el("textarea", { name: "note", "aria-label": "处理意见", maxlength: "2000", placeholder: "处理意见" });
    var justified = el("input", { type: "checkbox", name: "justified" });
    var form = el("form", { class: "ack", onsubmit: function (e) {
      e.preventDefault();
      api("/api/v1/tracking/alarms/" + a.id + "/acknowledge", { note: note.value, justified: justified.checked })
        .then(function () { toast("已处理：" + a.name + " " + KINDS[a.kind]); view.ackOpen = null; loadAlarms(); })
        .catch(function (error) { toast(error.message); });
    } }, [note, el("label", {}, [justified, " 合理（请假、外出任务等，不计入统计）"]),
      el("div", {}, [el("button", { type: "submit", class: "primary", text: "确认处理" })])]);
    form.addEventListener("click", function (e) { e.stopPropagation(); });
    form.addEventListener("keydown", function (e) { e.stopPropagation(); });
    setTimeout(function () { note.focus(); }, 0);
    return form;
  }
  $("#open-only").addEventListener("change", loadAlarms);

  /* --- map ------------------------------------------------------------------------------- */
  var TOGGLES = { responsibility_grids: "责任网格", unit_grids: "单元网格", components: "部件" };
  var map = null, font = null;
  var mapReady = fetch(cfg.styleUrl, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (style) {
      font = CityGridBase.labelFont(style);
      style = CityGridBase.calm(style, TOGGLES);
      style.layers.forEach(function (l) {   /* the grids shown by default, as a soft outline */
        if (l.metadata && l.metadata["citygrid:layer"] === "responsibility_grids" && l.type === "line") {
          l.layout.visibility = "visible";
          l.paint["line-color"] = "#b794f4"; l.paint["line-width"] = 1.2; l.paint["line-opacity"] = 0.8;
        }
      });
      map = new maplibregl.Map({ container: "map", style: style, center: cfg.center, zoom: cfg.zoom,
        localIdeographFontFamily: CityGridBase.ideographs });
      map.addControl(new maplibregl.NavigationControl(), "top-right");
      map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
      window.inspectorMap = map;
      return new Promise(function (resolve) { map.on("load", resolve); });
    });

  mapReady.then(function () {
    var box = el("div", { class: "map-toggles" });
    Object.keys(TOGGLES).forEach(function (key) {
      var on = key === "responsibility_grids";
      box.appendChild(el("label", {}, [el("input", { type: "checkbox", "data-layer": key, checked: on ? "checked" : null,
        onchange: function (e) { CityGridBase.showLayer(map, key, e.target.checked); } }), " " + TOGGLES[key]]));
    });
    $("#map").appendChild(box);
    var legend = el("div", { class: "legend", "aria-label": "图例" });
    [["online", "在线"], ["busy", "忙碌"], ["offline", "离线"], ["alarm", "报警中"]].forEach(function (s) {
      legend.appendChild(el("span", {}, [el("i", { class: "dot " + s[0] }), s[1]]));
    });
    legend.appendChild(el("span", {}, [el("i", { class: "dot online vehicle" }), "车辆"]));
    legend.appendChild(el("span", {}, [el("i", { class: "dot route" }), "巡查路线"]));
    legend.appendChild(el("span", {}, [el("i", { class: "dot checkpoint" }), "巡查点"]));
    $("#map").appendChild(legend);
    box.appendChild(el("label", {}, [el("input", { type: "checkbox", "data-layer": "routes", checked: "checked",
      onchange: function (e) {
        ["route-line", "checkpoint", "checkpoint-label"].forEach(function (id) {
          map.setLayoutProperty(id, "visibility", e.target.checked ? "visible" : "none");
        });
      } }), " 巡查路线"]));

    /* Patrol routes (巡查路线) and their checkpoints (巡查点), under the positions. */
    map.addSource("routes", { type: "geojson", data: EMPTY });
    map.addLayer({ id: "route-line", type: "line", source: "routes", filter: ["==", ["get", "kind"], "route"],
      layout: { "line-join": "round" },
      paint: { "line-color": "#0d9488", "line-width": 3, "line-opacity": 0.7, "line-dasharray": [2, 1.2] } });
    map.addLayer({ id: "checkpoint", type: "circle", source: "routes", filter: ["==", ["get", "kind"], "checkpoint"],
      paint: { "circle-radius": 6, "circle-color": "#ffffff", "circle-stroke-color": "#0d9488", "circle-stroke-width": 2.5 } });
    map.addLayer({ id: "checkpoint-label", type: "symbol", source: "routes", minzoom: 14,
      filter: ["==", ["get", "kind"], "checkpoint"],
      layout: { "text-field": ["get", "label"], "text-font": font, "text-size": 11, "text-offset": [0, -1.2],
        "text-optional": true },
      paint: { "text-color": "#115e59", "text-halo-color": "#fff", "text-halo-width": 1.6 } });
    loadRoutes();

    map.addSource("track", { type: "geojson", data: EMPTY });
    map.addLayer({ id: "track-gap", type: "line", source: "track", filter: ["==", ["get", "kind"], "gap"],
      paint: { "line-color": "#9aa5b1", "line-width": 2, "line-dasharray": [2, 2] } });
    map.addLayer({ id: "track-line", type: "line", source: "track", filter: ["==", ["get", "kind"], "track"],
      layout: { "line-join": "round", "line-cap": "round" },
      paint: { "line-color": "#1c64f2", "line-width": 3.5, "line-opacity": 0.85 } });
    map.addLayer({ id: "track-stop", type: "circle", source: "track", filter: ["==", ["get", "kind"], "stop"],
      paint: { "circle-radius": 7, "circle-color": "#d97706", "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
    map.addLayer({ id: "track-stop-label", type: "symbol", source: "track", filter: ["==", ["get", "kind"], "stop"],
      layout: { "text-field": ["get", "label"], "text-font": font, "text-size": 12, "text-offset": [0, -1.3] },
      paint: { "text-color": "#92400e", "text-halo-color": "#fff", "text-halo-width": 1.6 } });
    map.addSource("live", { type: "geojson", data: EMPTY });
    map.addLayer({ id: "live-halo", type: "circle", source: "live", filter: ["==", ["get", "status"], "alarm"],
      paint: { "circle-radius": 14, "circle-color": "#dc2626", "circle-opacity": 0.22 } });
    map.addLayer({ id: "live-selected", type: "circle", source: "live", filter: ["==", ["get", "selected"], true],
      paint: { "circle-radius": 12, "circle-color": "rgba(0,0,0,0)", "circle-stroke-color": "#1c64f2", "circle-stroke-width": 2.5 } });
    map.addLayer({ id: "live", type: "circle", source: "live", paint: {
      "circle-radius": ["case", ["==", ["get", "kind"], "vehicle"], 7.5, 6.5],
      "circle-color": ["match", ["get", "status"], "alarm", "#dc2626", "online", "#16a34a", "busy", "#f59e0b", "#9aa5b1"],
      "circle-stroke-color": ["case", ["==", ["get", "kind"], "vehicle"], "#102a43", "#ffffff"],
      "circle-stroke-width": 2 } });
    map.addLayer({ id: "live-label", type: "symbol", source: "live", minzoom: 12.5,
      layout: { "text-field": ["get", "name"], "text-font": font, "text-size": 12, "text-offset": [0, 1.25],
        "text-anchor": "top", "text-optional": true },
      paint: { "text-color": ["match", ["get", "status"], "alarm", "#991b1b", "offline", "#52606d", "busy", "#92400e", "#14532d"],
        "text-halo-color": "#ffffff", "text-halo-width": 1.8 } });
    map.addSource("playhead", { type: "geojson", data: EMPTY });
    map.addLayer({ id: "playhead", type: "circle", source: "playhead", paint: {
      "circle-radius": 8, "circle-color": "#1c64f2", "circle-stroke-color": "#fff", "circle-stroke-width": 3 } });

    map.on("click", "live", function (e) { e.preventDefault(); select(e.features[0].properties.tracker, false); });
    map.on("mouseenter", "live", function () { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", "live", function () { map.getCanvas().style.cursor = ""; });
    window.inspectorAround.setup(map);   /* 周边查询 (around.js) */
    map.on("click", function (e) { if (!e.defaultPrevented) { window.inspectorAround.click(e.lngLat); } });
    showOnMap();
  });

  function loadRoutes() {
    return api("/api/v1/tracking/routes").then(function (data) {
      view.routes = {};
      data.features.forEach(function (f) {
        var p = f.properties;
        if (p.kind === "route") { view.routes[p.route] = p; }
        if (p.kind === "checkpoint") {
          p.label = p.name + (p.window_start ? " " + p.window_start + "–" + p.window_end : "") +
            (p.required > 1 ? " ×" + p.required : "");
        }
      });
      if (map && map.getSource("routes")) { map.getSource("routes").setData(data); }
    }).catch(function (error) { toast(error.message); });
  }

  function showOnMap() {
    if (!map || !map.getSource("live")) { return; }
    map.getSource("live").setData({ type: "FeatureCollection", features: trackerList().map(function (t) {
      return { type: "Feature", geometry: { type: "Point", coordinates: [t.lon, t.lat] },
        properties: { tracker: t.tracker, name: t.name, kind: t.kind, status: statusOf(t), selected: t.tracker === view.selected } };
    }) });
  }

  /* --- card ------------------------------------------------------------------------------ */
  function select(id, fly) {
    if (view.selected !== id) { stopPlayback(true); }
    view.selected = id;
    renderLists();
    renderAlarms();
    showOnMap();
    renderCard(true);
    var t = view.trackers[id];
    if (fly && t && map) { map.easeTo({ center: [t.lon, t.lat], zoom: Math.max(map.getZoom(), 15) }); }
  }
  function renderCard(fresh) {
    var t = view.trackers[view.selected], card = $("#card");
    if (!t) { return; }
    if (!fresh && card.querySelector(".playback")) {   /* keep the playback controls; update the facts */
      var facts = card.querySelector(".facts");
      if (facts) { facts.replaceWith(cardFacts(t)); }
      return;
    }
    card.textContent = "";
    var status = statusOf(t), followed = view.follow.indexOf(t.tracker) >= 0;
    card.appendChild(el("h3", {}, [t.name, el("span", { class: "status " + status, text: STATUS[status] })]));
    card.appendChild(cardFacts(t));
    var day = el("section", { class: "day", "aria-label": "今日考勤与工作" });
    card.appendChild(day);
    window.inspectorAround.card(t, day);   /* today's attendance and work (around.js) */
    card.appendChild(el("div", { class: "buttons" }, [
      el("button", { type: "button", "data-follow": String(t.tracker), "aria-pressed": String(followed),
        text: followed ? "★ 取消关注" : "☆ 关注", onclick: function () { toggleFollow(t.tracker); renderCard(true); } }),
      el("button", { type: "button", text: "定位", onclick: function () { map.easeTo({ center: [t.lon, t.lat], zoom: 16 }); } })
    ]));
    card.appendChild(playbackPanel(t));
  }
  function cardFacts(t) {
    var today = view.alarms.filter(function (a) { return a.tracker === t.tracker; });
    var rows = [["类型", t.kind === "vehicle" ? (t.vehicle_type || "车辆") + (t.plate ? " · " + t.plate : "") : "监督员"],
      ["设备", t.device]];
    if (t.kind !== "vehicle") {
      rows.push(["责任网格", t.grids && t.grids.length ? t.grids.join("、") : (t.areas && t.areas.length ? t.areas.join("、") + "（所辖区域）" : "—")]);
      rows.push(["电话", t.phone || "—"]);
      rows.push(["排班", t.on_duty ? "在班 · " + t.shift : "不在班"]);
      rows.push(["待办任务", t.open_tasks > 0 ? t.open_tasks + " 件（忙碌）" : "无"]);
    }
    if (t.route) { rows.push([t.kind === "vehicle" ? "作业路线" : "巡查路线", t.route_name || String(t.route)]); }
    rows.push(["最后定位", stamp(t.t)]);
    rows.push(["电量", t.battery != null ? t.battery + "%" : "—"]);
    if (t.speed != null) { rows.push(["速度", (t.speed * 3.6).toFixed(1) + " 公里/小时"]); }
    var dl = el("dl");
    rows.forEach(function (r) { dl.appendChild(el("dt", { text: r[0] })); dl.appendChild(el("dd", { text: r[1] })); });
    var list = el("ul", { class: "today" });
    today.forEach(function (a) {
      list.appendChild(el("li", {}, [el("span", { class: "kind" + (a.open ? "" : " ended"), text: KINDS[a.kind] }), " " + alarmTimes(a)]));
    });
    if (!today.length) { list.appendChild(el("li", { class: "small", text: "今日无报警" })); }
    return el("div", { class: "facts" }, [dl, el("h4", { text: "今日报警 " + today.length + " 次" }), list]);
  }

  /* --- playback -------------------------------------------------------------------------- */
  function playbackPanel(t) {
    var day = el("input", { type: "date", value: todayString(), max: todayString(), "aria-label": "回放日期" });
    var load = el("button", { type: "button", class: "primary", "data-playback": "load", text: "轨迹回放" });
    var play = el("button", { type: "button", "data-playback": "play", text: "▶ 播放", disabled: "disabled" });
    var speed = el("select", { "aria-label": "回放速度", "data-playback": "speed" });
    SPEEDS.forEach(function (s) { speed.appendChild(el("option", { value: String(s), text: s + "×" })); });
    var slider = el("input", { type: "range", min: "0", max: "0", value: "0", step: "1", "aria-label": "回放时间", disabled: "disabled" });
    var time = el("span", { class: "clock", "aria-live": "off", text: "—" });
    var info = el("div", { class: "small", "aria-live": "polite" });
    var stops = el("ul", { class: "stops" });
    load.addEventListener("click", function () { loadTrack(t, day.value, { play: play, slider: slider, time: time, info: info, stops: stops }); });
    play.addEventListener("click", function () { togglePlay(); });
    speed.addEventListener("change", function () { if (view.play) { view.play.speed = Number(speed.value); } });
    slider.addEventListener("input", function () { if (view.play) { view.play.at = Number(slider.value); moveHead(); } });
    return el("section", { class: "playback", "aria-label": "轨迹回放" }, [
      el("h4", { text: "轨迹回放（1× 每秒播放 1 分钟）" }),
      el("div", { class: "row" }, [day, load]),
      el("div", { class: "row" }, [play, speed, time]), slider, info, stops]);
  }
  function loadTrack(t, day, ui) {
    stopPlayback(false);
    var range = dayRange(day), to = new Date(Math.min(range[1].getTime(), Date.now()));
    if (to <= range[0]) { toast("这一天还没有开始"); return; }
    var zoom = map ? Math.max(14, Math.min(18, Math.round(map.getZoom()))) : 16;
    var q = "from=" + encodeURIComponent(range[0].toISOString()) + "&to=" + encodeURIComponent(to.toISOString()) + "&zoom=" + zoom;
    api("/api/v1/tracking/trackers/" + t.tracker + "/track?" + q).then(function (data) {
      var line = data.features.filter(function (f) { return f.properties.kind === "track"; })[0];
      data.features.forEach(function (f) {
        if (f.properties.kind === "stop") { f.properties.label = "停留 " + minutes(f.properties.duration_s); }
      });
      map.getSource("track").setData(data);
      ui.stops.textContent = "";
      if (!line || line.geometry.coordinates.length < 2) {
        ui.info.textContent = "这一天没有轨迹";
        map.getSource("playhead").setData(EMPTY);
        return;
      }
      var times = line.properties.times.map(function (s) { return new Date(s).getTime() / 1000; });
      view.play = { coords: line.geometry.coordinates, times: times, at: 0, speed: 1, running: false, ui: ui, last: null };
      ui.slider.max = String(Math.round(times[times.length - 1] - times[0]));
      ui.slider.value = "0";
      ui.slider.disabled = false; ui.play.disabled = false;
      view.play.speed = Number(ui.play.parentNode.querySelector("select").value);
      var stopsFound = data.features.filter(function (f) { return f.properties.kind === "stop"; });
      var gaps = data.features.filter(function (f) { return f.properties.kind === "gap"; });
      ui.info.textContent = "定位 " + line.properties.fixes + " 个，保留顶点 " + line.properties.kept + " 个；停留 " +
        stopsFound.length + " 处，信号中断 " + gaps.length + " 次";
      stopsFound.forEach(function (f) {
        ui.stops.appendChild(el("li", { text: clock(f.properties.start) + "–" + clock(f.properties.end) + " 停留 " + minutes(f.properties.duration_s) }));
      });
      var bounds = new maplibregl.LngLatBounds(line.geometry.coordinates[0], line.geometry.coordinates[0]);
      line.geometry.coordinates.forEach(function (c) { bounds.extend(c); });
      map.fitBounds(bounds, { padding: 60, maxZoom: 17, duration: 300 });
      moveHead();
    }).catch(function (error) { toast(error.message); });
  }
  /* The marker at the slider's time, between the kept vertices around it. */
  function moveHead() {
    var p = view.play;
    if (!p) { return; }
    var t = p.times[0] + p.at, i = 0;
    while (i < p.times.length - 2 && p.times[i + 1] <= t) { i += 1; }
    var span = p.times[i + 1] - p.times[i], f = span > 0 ? Math.min(1, Math.max(0, (t - p.times[i]) / span)) : 0;
    var a = p.coords[i], b = p.coords[i + 1] || a;
    var here = [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f];
    map.getSource("playhead").setData({ type: "FeatureCollection", features: [
      { type: "Feature", geometry: { type: "Point", coordinates: here }, properties: { vertex: i } }] });
    p.ui.slider.value = String(Math.round(p.at));
    p.ui.time.textContent = clock(new Date(t * 1000).toISOString());
  }
  function togglePlay() {
    var p = view.play;
    if (!p) { return; }
    p.running = !p.running;
    p.ui.play.textContent = p.running ? "⏸ 暂停" : "▶ 播放";
    if (p.running) {
      if (p.at >= Number(p.ui.slider.max)) { p.at = 0; }
      p.last = performance.now();
      requestAnimationFrame(tick);
    }
  }
  function tick(now) {
    var p = view.play;
    if (!p || !p.running) { return; }
    p.at = Math.min(Number(p.ui.slider.max), p.at + (now - p.last) / 1000 * BASE_RATE * p.speed);
    p.last = now;
    moveHead();
    if (p.at >= Number(p.ui.slider.max)) { togglePlay(); return; }
    requestAnimationFrame(tick);
  }
  function stopPlayback(clear) {
    if (view.play) { view.play.running = false; }
    view.play = null;
    if (clear && map && map.getSource("track")) {
      map.getSource("track").setData(EMPTY);
      map.getSource("playhead").setData(EMPTY);
    }
  }

  /* --- live over the stream server ------------------------------------------------------- */
  function listen() {
    if (!window.EventSource) { return; }
    var source = new EventSource(cfg.streamUrl, { withCredentials: true });
    source.addEventListener("open", function () { $("#live").className = "live on"; });
    source.addEventListener("error", function () { $("#live").className = "live off"; });
    var drawPending = null, alarmPending = null;
    source.addEventListener("position", function (message) {
      var p = JSON.parse(message.data), t = view.trackers[p.tracker];
      if (!t) { clearTimeout(alarmPending); alarmPending = setTimeout(loadLive, 500); return; }
      if (new Date(p.t) < new Date(t.t)) { return; }
      t.lon = p.lon; t.lat = p.lat; t.t = p.t; t.speed = p.speed; t.battery = p.battery;
      if (!drawPending) { drawPending = setTimeout(function () { drawPending = null; render(); }, 400); }
    });
    source.addEventListener("alarm", function () {
      clearTimeout(alarmPending);   /* a burst of events reloads once */
      alarmPending = setTimeout(function () { loadAlarms(); loadLive(); }, 250);
    });
  }

  $("#q").addEventListener("input", renderLists);
  document.addEventListener("keydown", function (e) {
    var tag = document.activeElement.tagName;
    if (e.key === "/" && tag !== "INPUT" && tag !== "TEXTAREA") { e.preventDefault(); $("#q").focus(); }
    if (e.key === "Escape" && view.ackOpen) { view.ackOpen = null; renderAlarms(); }
  });
  $("#who").textContent = cfg.name + (cfg.positions.length ? "（" + cfg.positions.join("、") + "）" : "");
  setInterval(function () { loadLive(); }, 30000);   /* online turns offline without a fix */
  window.inspectorMonitor = { view: view, select: select };
  loadLive().then(loadAlarms);
  listen();
})();
