/* The configuration page (业务配置): a work calendar's holidays and make-up days (set one by
   one or from a spreadsheet), the workflow definitions and the category tree as tables. */
(function () {
  "use strict";
  var G = window.GisAdmin, el = G.el;
  var calendars = [], current = null, loaded = {};
  var WEEK = ["日", "一", "二", "三", "四", "五", "六"];
  var UNITS = { working_hours: "工作时", working_days: "工作日", natural_days: "自然日", natural_hours: "自然时" };
  var SOURCES = { inspector: "监督员上报", "public": "公众举报", hotline: "12345热线", video: "视频监控", leader: "领导交办", survey: "专项普查", media: "媒体曝光" };
  var STAGES = { reported: "受理", to_register: "立案", to_dispatch: "派遣", handling: "处置", to_check: "核查",
    checking: "核查", to_close: "结案", to_verify: "核实", verifying: "核实" };
  var ZONES = { core: "核心区域", general: "一般区域", outer: "外围区域" };
  var dayForm = document.getElementById("day"), dayErrors = document.getElementById("day-errors");
  var sheetForm = document.getElementById("sheet"), sheetErrors = document.getElementById("sheet-errors");

  /* Errors of a form whose slots sit just below it. */
  function showError(box, err) {
    box.querySelectorAll(".error").forEach(function (e) { e.textContent = ""; });
    var slot = box.querySelector('.error[data-for="' + (err.field || "") + '"]') || box.querySelector('.error[data-for=""]');
    slot.textContent = err.message;
  }
  function clear(box) { box.querySelectorAll(".error").forEach(function (e) { e.textContent = ""; }); }

  /* ---- tabs ---- */
  var tabs = document.querySelectorAll("[role=tab]");
  tabs.forEach(function (tab) {
    tab.addEventListener("click", function () { select(tab); });
    tab.addEventListener("keydown", function (e) {
      var list = Array.prototype.slice.call(tabs), i = list.indexOf(tab);
      if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
        var next = list[(i + (e.key === "ArrowRight" ? 1 : list.length - 1)) % list.length];
        next.focus(); select(next);
      }
    });
  });
  function select(tab) {
    tabs.forEach(function (t) {
      var on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    });
    var panel = tab.getAttribute("aria-controls");
    if (panel === "tab-workflows" && !loaded.workflows) { loaded.workflows = loadWorkflows(); }
    if (panel === "tab-categories" && !loaded.categories) { loaded.categories = loadCategories(); }
    if (panel === "tab-manual" && !loaded.manual) { loaded.manual = startManual(); }
  }

  /* ---- calendars ---- */
  function loadCalendars(key) {
    return G.api("GET", "/api/v1/calendars").then(function (answer) {
      calendars = answer.calendars;
      var pick = document.getElementById("calendar-key");
      pick.innerHTML = "";
      calendars.forEach(function (c) { pick.appendChild(el("option", { value: c.key, text: c.name + (c.is_default ? "（默认）" : "") })); });
      pick.value = key || (current && current.key) || calendars[0].key;
      show(pick.value);
    });
  }
  document.getElementById("calendar-key").addEventListener("change", function () { show(this.value); });

  function periodsText(periods) { return (periods || []).map(function (p) { return p[0] + "-" + p[1]; }).join("、"); }

  function show(key) {
    current = calendars.filter(function (c) { return c.key === key; })[0];
    document.getElementById("calendar-facts").textContent = "常规工作时段 " + (periodsText(current.periods) || "08:30-12:00、13:30-17:30") +
      (current.use_official_holidays ? " · 含国家法定节假日与调休" : " · 不含法定节假日");
    document.getElementById("export").href = "/api/v1/calendars/" + encodeURIComponent(key) + "/days.xlsx";
    var body = document.querySelector("#days tbody");
    body.innerHTML = "";
    if (!current.days.length) { body.appendChild(el("tr", {}, [el("td", { colspan: "6", class: "small", text: "还没有单独设置的日期。" })])); }
    current.days.forEach(function (d) {
      var remove = el("button", { type: "button", text: "删除", "aria-label": "删除 " + d.date });
      remove.addEventListener("click", function () {
        G.api("DELETE", "/api/v1/calendars/" + encodeURIComponent(current.key) + "/days/" + d.date).then(function () {
          G.toast("已删除 " + d.date); return loadCalendars(current.key);
        }, function (err) { G.toast(err.message, true); });
      });
      body.appendChild(el("tr", { class: d.working ? "working" : "holiday", "data-date": d.date }, [
        el("td", { text: d.date }), el("td", { text: "星期" + WEEK[new Date(d.date + "T00:00:00").getDay()] }),
        el("td", { text: d.working ? "上班（调休）" : "放假" }), el("td", { text: d.working ? (periodsText(d.periods) || "常规") : "—" }),
        el("td", { text: d.note }), el("td", {}, [remove])]));
    });
  }

  dayForm.addEventListener("submit", function (e) {
    e.preventDefault();
    clear(dayErrors);
    var f = dayForm.elements;
    if (!f.date.value) { showError(dayErrors, { field: "date", message: "请选择日期" }); return; }
    var periods = null, text = f.periods.value.trim();
    if (text) {
      periods = text.split(/[、,，]/).filter(Boolean).map(function (p) { return p.trim().split("-").map(function (t) { return t.trim(); }); });
      if (periods.some(function (p) { return p.length !== 2 || !/^\d\d:\d\d$/.test(p[0]) || !/^\d\d:\d\d$/.test(p[1]); })) {
        showError(dayErrors, { field: "periods", message: "工作时段写作 08:30-12:00、13:30-17:30" }); return;
      }
    }
    var body = { working: f.working.value === "true", periods: periods, note: f.note.value };
    G.api("PUT", "/api/v1/calendars/" + encodeURIComponent(current.key) + "/days/" + f.date.value, body).then(function (day) {
      G.toast("已保存 " + day.date); dayForm.reset(); return loadCalendars(current.key);
    }, function (err) { showError(dayErrors, err); });
  });

  sheetForm.addEventListener("submit", function (e) {
    e.preventDefault();
    clear(sheetErrors);
    var file = sheetForm.elements.file.files[0];
    if (!file) { showError(sheetErrors, { field: "file", message: "请选择 .xlsx 文件" }); return; }
    var body = new FormData();
    body.append("file", file);
    G.api("POST", "/api/v1/calendars/" + encodeURIComponent(current.key) + "/days.xlsx", body).then(function (r) {
      G.toast("已导入 " + r.rows + " 天（新增 " + r.created + "，更新 " + r.updated + "）"); sheetForm.reset(); return loadCalendars(current.key);
    }, function (err) { showError(sheetErrors, err); });
  });

  /* ---- workflows ---- */
  function table(headings, rows) {
    var t = el("table", { class: "grid" }, [el("thead", {}, [el("tr", {}, headings.map(function (h) { return el("th", { text: h }); }))])]);
    var body = el("tbody");
    rows.forEach(function (r) { body.appendChild(el("tr", {}, r.map(function (c) { return el("td", { text: c === null || c === undefined ? "" : String(c) }); }))); });
    t.appendChild(body);
    return t;
  }

  function loadWorkflows() {
    var panel = document.getElementById("tab-workflows");
    return G.api("GET", "/api/v1/workflows").then(function (answer) {
      panel.innerHTML = "";
      answer.workflows.forEach(function (w) {
        panel.appendChild(el("h3", { text: w.name + "（" + w.key + "）" + (w.active ? "" : " · 停用") }));
        panel.appendChild(el("p", { class: "small", text: "适用：" + ({ component: "部件", event: "事件" }[w.kind] || "全部类型") + " · 来源 " + (SOURCES[w.source] || "全部") +
          (w.self_handled ? " · 自行处置" : "") + " · 优先级 " + w.priority }));
        panel.appendChild(table(["阶段", "时限"], w.stages.map(function (s) { return [s.state_name, s.limit || "—"]; })));
        panel.appendChild(el("div", { style: "height:8px" }));
        panel.appendChild(table(["从", "动作", "结果", "到", "所需权限"], w.transitions.map(function (t) {
          return [t.source_name, t.action_name, t.outcome_name, t.target_name, t.permission_name]; })));
      });
    });
  }

  /* ---- categories ---- */
  var LEVELS = { routine: "日常", general: "一般", serious: "严重", major: "重大" };

  /* One condition's limits, grouped by case level: "日常：4工作时，核心区域 2工作时". */
  function limitsText(limits) {
    var byLevel = {}, order = [];
    limits.forEach(function (l) {
      var level = LEVELS[l.level] || "任意等级";
      if (!byLevel[level]) { byLevel[level] = []; order.push(level); }
      byLevel[level].push((l.zone ? (ZONES[l.zone] || l.zone) + " " : "") + (STAGES[l.stage] && l.stage !== "handling" ? STAGES[l.stage] : "") + l.amount + UNITS[l.unit]);
    });
    return order.map(function (level) { return level + "：" + byLevel[level].join("，"); }).join("；");
  }

  function loadCategories() {
    var panel = document.getElementById("tab-categories");
    return G.api("GET", "/api/v1/categories").then(function (answer) {
      panel.innerHTML = "";
      var rows = [];
      answer.categories.forEach(function (major) {
        major.children.forEach(function (m) {
          rows.push([({ component: "部件", event: "事件" })[m.kind], major.code + " " + major.name, m.code + " " + m.name,
            m.register_conditions.map(function (c) { return c.text; }).join("；"),
            m.register_conditions.length ? limitsText(m.register_conditions[0].limits) : "",
            m.close_conditions.map(function (c) { return c.text; }).join("；"),
            m.manual ? m.manual.department.name : (m.default_department || "")]);
        });
      });
      panel.appendChild(el("p", { class: "small", text: rows.length + " 个小类。处置时限为第一项立案条件的时限（按案件等级、计时区域）；责任部门取自事项指挥手册（全市）。" }));
      var t = table(["类型", "大类", "小类", "立案条件", "处置时限", "结案条件", "责任部门"], rows);
      t.classList.add("categories-table");
      panel.appendChild(t);
    });
  }

  /* ---- the responsibility manual: who handles a class where ---- */
  var manualMap = null, manual = null, PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#1f78b4"];
  var entryForm = document.getElementById("manual-entry"), entryErrors = document.getElementById("manual-errors");

  function startManual() {
    return G.api("GET", "/api/v1/categories").then(function (answer) {
      var pick = document.getElementById("manual-category"), KIND = { component: "部件", event: "事件" };
      answer.categories.forEach(function (major) {
        var group = el("optgroup", { label: KIND[major.kind] + " " + major.code + " " + major.name });
        major.children.forEach(function (m) { group.appendChild(el("option", { value: major.kind + ":" + m.code, text: m.code + " " + m.name })); });
        pick.appendChild(group);
      });
      pick.addEventListener("change", loadManual);
      return fetch(G.cfg.styleUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); });
    }).then(function (style) {
      style = G.quiet(style);
      style.layers.forEach(function (l) {
        var key = l.metadata && l.metadata["citygrid:layer"];
        if (l.type === "fill" && key !== "streets" && key !== "communities") { l.layout = l.layout || {}; l.layout.visibility = "none"; }
        if (l.type === "fill" && key === "communities") { l.paint["fill-opacity"] = 0.01; }  /* clickable */
        if (key === "unit_grids" || key === "responsibility_grids" || key === "controlled_areas") { l.layout = l.layout || {}; l.layout.visibility = "none"; }
      });
      manualMap = new maplibregl.Map({ container: "manual-map", style: style, center: G.cfg.center, zoom: G.cfg.zoom - 2,
        localIdeographFontFamily: "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', sans-serif" });
      manualMap.addControl(new maplibregl.NavigationControl(), "top-right");
      window.manualMap = manualMap;
      return new Promise(function (resolve) { manualMap.on("load", resolve); });
    }).then(function () {
      manualMap.addSource("manual", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
      manualMap.addLayer({ id: "manual-fill", type: "fill", source: "manual", paint: { "fill-color": ["get", "colour"], "fill-opacity": 0.45 } });
      manualMap.addLayer({ id: "manual-line", type: "line", source: "manual", paint: { "line-color": ["get", "colour"], "line-width": 2 } });
      manualMap.on("click", pickArea);
      return loadManual();
    });
  }

  function chosen() { var v = document.getElementById("manual-category").value.split(":"); return { kind: v[0], code: v[1] }; }

  function loadManual() {
    var c = chosen();
    return G.api("GET", "/api/v1/manual?kind=" + c.kind + "&category=" + encodeURIComponent(c.code)).then(function (m) {
      manual = m;
      var colours = {}, n = 0;
      m.areas.features.forEach(function (f) {
        var d = f.properties.department;
        if (!colours[d]) { colours[d] = PALETTE[n++ % PALETTE.length]; }
        f.properties.colour = colours[d];
      });
      manualMap.getSource("manual").setData(m.areas);
      document.getElementById("manual-citywide").textContent = "全市：" + (m.citywide ? m.citywide.name : "未设置");
      var legend = document.getElementById("manual-legend");
      legend.innerHTML = "";
      if (!m.areas.features.length) { legend.appendChild(el("li", { class: "meta", text: "该小类没有按区域单独设置的责任部门。" })); }
      m.areas.features.forEach(function (f) {
        var p = f.properties;
        legend.appendChild(el("li", { "data-area": p.area }, [el("span", { class: "swatch", style: "background:" + p.colour }),
          p.area_name + "（" + p.area + "）→ " + p.department_name]));
      });
      var select = entryForm.elements.department;
      select.innerHTML = "";
      m.departments.forEach(function (d) { select.appendChild(el("option", { value: d.code, text: d.name })); });
      window.manualReady = true;
    }, function (err) { G.toast(err.message, true); });
  }

  function pickArea(e) {
    var found = manualMap.queryRenderedFeatures(e.point).filter(function (f) {
      return f.sourceLayer === "streets" || f.sourceLayer === "communities";
    });
    if (!found.length) { G.toast("请点击街道或社区范围内", true); return; }
    var select = entryForm.elements.area, seen = {};
    select.innerHTML = "";
    found.forEach(function (f) {
      var code = f.properties.code;
      if (seen[code]) { return; }
      seen[code] = true;
      select.appendChild(el("option", { value: code, text: (f.sourceLayer === "streets" ? "街道 " : "社区 ") + f.properties.name + "（" + code + "）" }));
    });
    entryForm.hidden = false;
    clear(entryErrors);
    showEntry();
  }

  function showEntry() {
    var code = entryForm.elements.area.value;
    var own = manual.areas.features.filter(function (f) { return f.properties.area === code; })[0];
    document.getElementById("manual-area-title").textContent = own ? "已单独设置" : "按上级设置：" + (manual.citywide ? manual.citywide.name : "未设置");
    entryForm.elements.department.value = own ? own.properties.department : (manual.citywide ? manual.citywide.code : "");
    entryForm.elements.standard.value = own ? own.properties.standard : "";
    document.getElementById("manual-drop").disabled = !own;
  }
  entryForm.elements.area.addEventListener("change", showEntry);

  entryForm.addEventListener("submit", function (e) {
    e.preventDefault();
    clear(entryErrors);
    var c = chosen(), area = entryForm.elements.area.value;
    var body = { department: entryForm.elements.department.value, standard: entryForm.elements.standard.value };
    G.api("PUT", "/api/v1/manual/" + c.kind + "/" + c.code + "/" + area, body).then(function () {
      G.toast("已设置 " + area); return loadManual().then(showEntry);
    }, function (err) { showError(entryErrors, err); });
  });

  document.getElementById("manual-drop").addEventListener("click", function () {
    var c = chosen(), area = entryForm.elements.area.value;
    G.api("DELETE", "/api/v1/manual/" + c.kind + "/" + c.code + "/" + area).then(function () {
      G.toast("已恢复为上级设置"); return loadManual().then(showEntry);
    }, function (err) { showError(entryErrors, err); });
  });

  loadCalendars().then(function () { window.gisReady = true; });
})();
