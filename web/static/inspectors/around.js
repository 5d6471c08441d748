/* The inspector monitor's search around a point (周边查询) and the card's day at work.

   周边查询: a map button turns the mode on; a click on the map (or 以地图中心查询 from the
   keyboard) asks GET /api/v1/tracking/nearest for the nearest online trackers, lists them with
   their road and straight distances and draws the road way to the nearest. Without pgRouting
   the answer says "straight" and the list says so.

   The card of a person gets today's attendance (GET /api/v1/tracking/attendance) and work
   numbers (GET /api/v1/evaluation/inspectors/work?tracker=). inspectors.js calls
   window.inspectorAround.click(lngLat) and .card(tracker, node). */
(function () {
  "use strict";
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var EMPTY = { type: "FeatureCollection", features: [] };
  var TZ = "Asia/Shanghai";
  var state = { on: false, map: null, panel: null, button: null };

  var dom = window.CityGridDom, el = dom.el;
  var cfg = JSON.parse(document.getElementById("monitor-config").textContent);
  function post(path, body) { return dom.json(path, body, cfg.csrfToken); }
  function get(path) { return dom.json(path); }
  function distance(m) {
    if (m === null || m === undefined) { return "—"; }
    return m < 1000 ? Math.round(m) + " 米" : (m / 1000).toFixed(2) + " 公里";
  }
  function hm(seconds) {
    var m = Math.round(seconds / 60);
    return m >= 60 ? Math.floor(m / 60) + "小时" + (m % 60) + "分" : m + "分钟";
  }
  function clock(iso) {
    return new Date(iso).toLocaleTimeString("zh-CN", { timeZone: TZ, hour12: false }).slice(0, 5);
  }
  function today() {
    return new Date().toLocaleDateString("sv-SE", { timeZone: TZ });
  }

  /* --- 周边查询 ------------------------------------------------------------------------------ */
  function setup(map) {
    state.map = map;
    map.addSource("around", { type: "geojson", data: EMPTY });
    map.addLayer({ id: "around-path", type: "line", source: "around", filter: ["==", ["get", "kind"], "path"],
      layout: { "line-cap": "round", "line-join": "round" },
      paint: { "line-color": "#7c3aed", "line-width": 4, "line-opacity": 0.85 } });
    map.addLayer({ id: "around-origin", type: "circle", source: "around", filter: ["==", ["get", "kind"], "origin"],
      paint: { "circle-radius": 7, "circle-color": "#7c3aed", "circle-stroke-color": "#fff", "circle-stroke-width": 3 } });
    state.button = el("button", { type: "button", class: "around-toggle", "aria-pressed": "false",
      title: "周边查询：点击地图查找最近的在线人员（按道路距离）", text: "周边查询", onclick: toggle });
    state.panel = el("section", { class: "around-panel", "aria-label": "周边查询结果", hidden: "hidden" });
    state.workButton = el("button", { type: "button", class: "around-toggle", "aria-pressed": "false",
      title: "网格员工作情况：按时间段统计上报、核查、巡更、在线时长与考勤", text: "工作统计", onclick: toggleWork });
    state.workPanel = el("section", { class: "around-panel work-panel", "aria-label": "网格员工作情况", hidden: "hidden" });
    $("#map").appendChild(el("div", { class: "around-box" }, [
      el("div", { class: "around-buttons" }, [state.button, state.workButton]), state.panel, state.workPanel]));
  }
  function toggle() {
    state.on = !state.on;
    state.button.setAttribute("aria-pressed", String(state.on));
    state.button.classList.toggle("on", state.on);
    state.map.getCanvas().style.cursor = state.on ? "crosshair" : "";
    if (state.on) {
      state.panel.hidden = false;
      state.panel.textContent = "";
      state.panel.appendChild(el("p", { class: "small", text: "点击地图上的位置，查找最近的在线人员与车辆。" }));
      state.panel.appendChild(el("button", { type: "button", "data-around": "centre", text: "以地图中心查询",
        onclick: function () { search(state.map.getCenter()); } }));
    } else {
      state.panel.hidden = true;
      state.map.getSource("around").setData(EMPTY);
    }
  }
  function search(lngLat) {
    if (!state.on) { return false; }
    var q = "lon=" + lngLat.lng.toFixed(7) + "&lat=" + lngLat.lat.toFixed(7) + "&limit=5";
    state.panel.textContent = "";
    state.panel.appendChild(el("p", { class: "small", text: "查询中…" }));
    get("/api/v1/tracking/nearest?" + q).then(function (data) { show(data); }).catch(function (error) {
      state.panel.textContent = "";
      state.panel.appendChild(el("p", { class: "small", text: error.message }));
    });
    return true;
  }
  function show(data) {
    var features = [{ type: "Feature", geometry: data.origin, properties: { kind: "origin" } }];
    if (data.path) { features.push({ type: "Feature", geometry: data.path, properties: { kind: "path" } }); }
    state.map.getSource("around").setData({ type: "FeatureCollection", features: features });
    var road = data.method === "road";
    var list = el("ol", { class: "near" });
    data.nearest.forEach(function (n, i) {
      list.appendChild(el("li", { "data-near": String(n.tracker) }, [
        el("button", { type: "button", text: n.name, onclick: function () { window.inspectorMonitor.select(n.tracker, true); } }),
        el("span", { class: "small", text: (road ? " 道路 " + distance(n.road_m) + " · " : " ") + "直线 " + distance(n.straight_m) +
          (i === 0 && data.path ? "（路线已标出）" : "") })
      ]));
    });
    state.panel.textContent = "";
    state.panel.appendChild(el("h4", { text: road ? "最近的在线人员（道路距离）" : "最近的在线人员（直线距离，未启用路网分析）" }));
    state.panel.appendChild(data.nearest.length ? list : el("p", { class: "small", text: "附近没有在线人员" }));
    state.panel.appendChild(el("button", { type: "button", "data-around": "centre", text: "以地图中心查询",
      onclick: function () { search(state.map.getCenter()); } }));
  }

  /* --- 网格员工作情况: every inspector's numbers for a period --------------------------------- */
  function toggleWork() {
    var open = state.workPanel.hidden;
    state.workPanel.hidden = !open;
    state.workButton.setAttribute("aria-pressed", String(open));
    state.workButton.classList.toggle("on", open);
    if (!open) { return; }
    var from = el("input", { type: "date", value: today(), max: today(), "aria-label": "开始日期", "data-work-from": "" });
    var to = el("input", { type: "date", value: today(), max: today(), "aria-label": "结束日期", "data-work-to": "" });
    var table = el("div", { class: "work-table" });
    var form = el("form", { class: "row", onsubmit: function (e) {
      e.preventDefault();
      loadWork(from.value, to.value, table);
    } }, [from, "至", to, el("button", { type: "submit", text: "统计" })]);
    state.workPanel.textContent = "";
    state.workPanel.appendChild(el("h4", { text: "网格员工作情况" }));
    state.workPanel.appendChild(form);
    state.workPanel.appendChild(table);
    loadWork(from.value, to.value, table);
  }
  var WORK_COLUMNS = [["name", "姓名"], ["reports", "上报"], ["verifications", "核实"], ["checks", "核查"],
    ["checkpoints", "巡更"], ["online", "在线"], ["in_grid", "网格内"], ["stays", "滞留"], ["signal_lost", "信号异常"],
    ["out_of_grid", "越界"], ["attendance", "考勤（排班/签到/异常）"]];
  function loadWork(from, to, table) {
    table.textContent = "统计中…";
    get("/api/v1/evaluation/inspectors/work?from=" + from + "&to=" + to).then(function (data) {
      var head = el("tr", {}, WORK_COLUMNS.map(function (c) { return el("th", { scope: "col", text: c[1] }); }));
      var rows = data.inspectors.map(function (w) {
        var values = { name: w.name, online: hm(w.online_s), in_grid: hm(w.in_grid_s),
          attendance: w.attendance.duties + " / " + w.attendance.clocked_in + " / " + w.attendance.anomalies };
        var row = el("tr", { "data-person": String(w.person) }, WORK_COLUMNS.map(function (c) {
          var value = c[0] in values ? values[c[0]] : String(w[c[0]]);
          return c[0] === "name" ? el("th", { scope: "row" }, [el("button", { type: "button", text: value,
            onclick: function () { window.inspectorMonitor.select(w.trackers[0], true); } })]) : el("td", { text: value });
        }));
        return row;
      });
      table.textContent = "";
      table.appendChild(rows.length ? el("table", {}, [el("thead", {}, [head]), el("tbody", {}, rows)]) :
        el("p", { class: "small", text: "没有可见的网格员" }));
    }).catch(function (error) { table.textContent = error.message; });
  }

  /* --- the card's day: attendance and work ------------------------------------------------- */
  var ANOMALY = { late: "迟到", left_early: "早退", missing_in: "未签到", missing_out: "未签退", off_grid: "网格外打卡" };
  function card(t, node) {
    if (t.kind === "vehicle") { return; }
    var day = today();
    node.textContent = "";
    node.appendChild(el("h4", { text: "今日考勤与工作" }));
    var attendance = el("div", { class: "small attendance", text: "…" });
    var work = el("dl", { class: "work-numbers" });
    node.appendChild(attendance);
    node.appendChild(work);
    /* Yesterday's duties too: a night shift that began yesterday is still today's work. */
    var yesterday = new Date(Date.now() - 86400000).toLocaleDateString("sv-SE", { timeZone: TZ });
    var midnight = new Date(day + "T00:00:00+08:00");
    get("/api/v1/tracking/attendance?tracker=" + t.tracker + "&from=" + yesterday + "&to=" + day).then(function (data) {
      var duties = data.duties.filter(function (d) { return new Date(d.end) > midnight; });
      attendance.textContent = "";
      if (!duties.length) { attendance.textContent = "今日无排班"; return; }
      duties.forEach(function (d) {
        var parts = [d.shift.name + " " + d.shift.start + "–" + d.shift.end,
          d.clock_in ? "签到 " + clock(d.clock_in.at) : "未签到", d.clock_out ? "签退 " + clock(d.clock_out.at) : (new Date(d.end) > Date.now() ? "待签退" : "未签退")];
        var issues = d.anomalies.map(function (a) {
          return ANOMALY[a.anomaly] + (a.details && a.details.minutes ? " " + a.details.minutes + " 分钟" : "") +
            (a.explanation ? "（说明" + a.explanation.status_label + "）" : "");
        });
        var row = el("div", { "data-duty": d.date + "-" + d.shift.id }, [parts.join(" · "),
          issues.length ? el("span", { class: "anomaly", text: " 异常：" + issues.join("、") }) : el("span", { class: "ok", text: " 正常" })]);
        if (d.clock_in) {   /* the clock-in photo */
          row.appendChild(el("a", { href: "/api/v1/tracking/clocks/" + d.clock_in.id + "/photo", target: "_blank", rel: "noopener",
            class: "clock-photo", title: "签到照片" }, [el("img", { src: "/api/v1/tracking/clocks/" + d.clock_in.id + "/photo", alt: "签到照片" })]));
        }
        d.anomalies.forEach(function (a) {
          if (a.explanation && a.explanation.status === "pending") { row.appendChild(decision(a, t, node)); }
        });
        attendance.appendChild(row);
      });
    }).catch(function (error) { attendance.textContent = error.message; });
    get("/api/v1/evaluation/inspectors/work?tracker=" + t.tracker + "&from=" + day).then(function (data) {
      var w = data.inspectors[0];
      if (!w) { return; }
      [["上报", w.reports + " 件"], ["核实", w.verifications + " 件"], ["核查", w.checks + " 件"],
        ["巡更打卡", w.checkpoints + " 次" + (w.checkpoints_missed ? "（漏巡 " + w.checkpoints_missed + "）" : "")],
        ["在线", hm(w.online_s) + "（网格内 " + hm(w.in_grid_s) + "）"],
        ["滞留 / 信号异常 / 越界", w.stays + " / " + w.signal_lost + " / " + w.out_of_grid]
      ].forEach(function (r) {
        work.appendChild(el("dt", { text: r[0] }));
        work.appendChild(el("dd", { "data-work": r[0], text: r[1] }));
      });
    }).catch(function (error) { work.appendChild(el("dd", { text: error.message })); });
  }

  /* A pending explanation (考勤说明) with 通过 / 驳回 for the supervisor. */
  function decision(a, t, node) {
    var note = el("input", { type: "text", maxlength: "500", placeholder: "审批意见", "aria-label": "审批意见" });
    function decide(accepted) {
      post("/api/v1/tracking/attendance/explanations/" + a.explanation.id + "/decide", { accepted: accepted, note: note.value })
        .then(function () { card(t, node); })
        .catch(function (error) { box.appendChild(el("div", { class: "small", text: error.message })); });
    }
    var box = el("div", { class: "explanation", "data-explanation": String(a.explanation.id) }, [
      el("div", { class: "small", text: ANOMALY[a.anomaly] + "说明：" + a.explanation.text }), note,
      el("button", { type: "button", text: "通过", onclick: function () { decide(true); } }),
      el("button", { type: "button", text: "驳回", onclick: function () { decide(false); } })]);
    return box;
  }

  window.inspectorAround = { setup: setup, click: search, card: card, state: state };
})();
