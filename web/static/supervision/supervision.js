/* Process supervision (/supervision, 流程监督): the workflow's stages with live counts, the list
   of one stage (overdue first) with thumbnails and pins, and a case's steps, before/after photos
   and nearby cases. Counts refresh from the case stream (SSE on the stream server). */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("supervision-config").textContent);
  var $ = function (s) { return document.querySelector(s); };
  var view = { state: null, offset: 0, selected: null, rows: [] };
  var SOURCES = { inspector: "监督员上报", public: "公众举报", hotline: "12345热线", video: "视频监控", leader: "领导交办", survey: "专项普查", media: "媒体曝光" };
  var LATE = { overdue: "超期", warning: "预警", normal: "正常", none: "无时限" };

  var dom = window.CityGridDom, el = dom.el;
  function api(path) { return dom.json(path); }
  function hhmm(iso) { return iso ? iso.slice(5, 16).replace("T", " ") : ""; }
  function filters() {
    var f = $("#filters"), q = new URLSearchParams({ period: f.period.value });
    ["number", "area", "source", "reporter"].forEach(function (k) { if (f[k].value.trim()) { q.set(k, f[k].value.trim()); } });
    return q;
  }

  /* --- stages ------------------------------------------------------------------------------ */
  function loadStages() {
    var q = filters();
    q.delete("number"); q.delete("reporter");
    return api("/api/v1/supervision/stages?" + q).then(function (answer) {
      var list = $("#stage-list");
      list.innerHTML = "";
      answer.stages.forEach(function (s) {
        var late = s.overdue || s.warning ? el("span", { class: "late" }, [s.overdue ? el("b", { text: "超期 " + s.overdue }) : null,
          s.overdue && s.warning ? " · " : "", s.warning ? el("i", { text: "预警 " + s.warning }) : null]) : null;
        list.appendChild(el("li", {}, [el("button", { type: "button", "data-state": s.state, class: s.state === view.state ? "on" : "",
          onclick: function () { choose(s.state); } }, [el("span", { text: s.name }), el("span", { class: "n", text: String(s.count) }), late])]));
      });
      if (!view.state) {
        var first = answer.stages.filter(function (s) { return s.overdue; })[0] || answer.stages.filter(function (s) { return s.count; })[0];
        if (first) { choose(first.state); }
      }
    });
  }
  function choose(state) {
    view.state = state;
    document.querySelectorAll("#stage-list button").forEach(function (b) { b.classList.toggle("on", b.dataset.state === state); });
    loadCases(false);
  }

  /* --- the list ---------------------------------------------------------------------------- */
  function loadCases(more, fresh) {
    if (!view.state) { return Promise.resolve(); }
    view.offset = more ? view.offset + 50 : 0;
    var q = filters();
    q.set("state", view.state); q.set("limit", "50"); q.set("offset", String(view.offset));
    return api("/api/v1/supervision/cases?" + q).then(function (answer) {
      var list = $("#case-list");
      if (!more) { list.innerHTML = ""; view.rows = []; }
      view.rows = view.rows.concat(answer.cases);
      var name = ($("#stage-list button.on span") || {}).textContent || "";
      $("#list-head").textContent = name + " · 共 " + answer.count + " 件（超期在前）";
      answer.cases.forEach(function (c) { list.appendChild(row(c, fresh)); });
      if (!view.rows.length) { list.appendChild(el("li", { class: "empty" }, [el("span"), el("span", { class: "t2", text: "没有符合条件的案件" })])); }
      $("#more").hidden = view.rows.length >= answer.count;
      pins(view.rows);
    }).catch(function (e) { $("#list-head").textContent = e.message; });
  }
  function row(c, fresh) {
    var thumb = c.thumbnail ? el("img", { class: "thumb", src: c.thumbnail, alt: "上报照片", loading: "lazy" }) : el("span", { class: "thumb", text: "无照片" });
    var li = el("li", { tabindex: "0", "data-case": String(c.id), class: (c.id === view.selected ? "on " : "") + (fresh === c.id ? "fresh" : ""),
      onclick: function () { select(c); }, onkeydown: function (e) { if (e.key === "Enter") { select(c); } } }, [thumb,
      el("div", {}, [el("div", { class: "t1", text: c.number + " " + c.category }),
        el("div", { class: "t2", text: (c.street || "") + (c.community ? " · " + c.community : "") + " · " + (c.address || "") }),
        el("div", { class: "t3", text: c.source_name + " · 上报 " + hhmm(c.reported_at) + (c.department ? " · " + c.department : "") })]),
      el("span", { class: "tag " + c.deadline_state, text: LATE[c.deadline_state] || c.deadline_state })]);
    return li;
  }
  $("#more").addEventListener("click", function () { loadCases(true); });
  $("#filters").addEventListener("submit", function (e) { e.preventDefault(); loadStages(); loadCases(false); });

  /* --- the map ----------------------------------------------------------------------------- */
  var map, mapReady = fetch(cfg.styleUrl.replace("{variant}", "light"), { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (style) {
      map = new maplibregl.Map({ container: "map", style: CityGridBase.calm(style, {}), center: cfg.center, zoom: cfg.zoom,
        localIdeographFontFamily: CityGridBase.ideographs });
      map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
      window.supervisionMap = map;
      return new Promise(function (resolve) {
        map.on("load", function () {
          map.addSource("list", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
          map.addSource("nearby", { type: "geojson", data: { type: "FeatureCollection", features: [] } });
          map.addLayer({ id: "nearby", type: "circle", source: "nearby", paint: { "circle-radius": 5, "circle-color": "#9aa5b1",
            "circle-stroke-color": "#fff", "circle-stroke-width": 1.5 } });
          map.addLayer({ id: "list", type: "circle", source: "list", paint: {
            "circle-radius": ["case", ["get", "selected"], 10, 7],
            "circle-color": ["match", ["get", "deadline_state"], "overdue", "#dc2626", "warning", "#d97706", "#1c64f2"],
            "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
          map.on("click", "list", function (e) {
            var id = e.features[0].properties.id;
            var found = view.rows.filter(function (c) { return c.id === id; })[0];
            if (found) { select(found); }
          });
          map.on("mouseenter", "list", function () { map.getCanvas().style.cursor = "pointer"; });
          map.on("mouseleave", "list", function () { map.getCanvas().style.cursor = ""; });
          resolve(map);
        });
      });
    });
  function pins(rows) {
    mapReady.then(function () {
      map.getSource("list").setData({ type: "FeatureCollection", features: rows.map(function (c) {
        return { type: "Feature", geometry: { type: "Point", coordinates: [c.lon, c.lat] },
          properties: { id: c.id, deadline_state: c.deadline_state, selected: c.id === view.selected } };
      }) });
      if (rows.length && !view.selected) {
        var bounds = new maplibregl.LngLatBounds();
        rows.forEach(function (c) { bounds.extend([c.lon, c.lat]); });
        map.fitBounds(bounds, { padding: 40, maxZoom: 15, duration: 0 });
      }
    });
  }

  /* --- one case: steps, before/after, nearby ------------------------------------------------- */
  function select(c) {
    view.selected = c.id;
    document.querySelectorAll("#case-list li").forEach(function (li) { li.classList.toggle("on", li.dataset.case === String(c.id)); });
    pins(view.rows);
    mapReady.then(function () { map.flyTo({ center: [c.lon, c.lat], zoom: Math.max(map.getZoom(), 15) }); });
    var box = $("#detail");
    box.innerHTML = "";
    box.appendChild(el("p", { class: "hint", text: "加载中…" }));
    Promise.all([api("/api/v1/supervision/cases/" + c.id + "/steps"), api("/api/v1/cases/" + c.id + "/nearby?kinds=cases&radius=300&limit=10")])
      .then(function (answers) { showDetail(c, answers[0], answers[1]); })
      .catch(function (e) { box.innerHTML = ""; box.appendChild(el("p", { class: "hint", text: e.message })); });
  }
  function showDetail(c, steps, nearby) {
    var box = $("#detail");
    box.innerHTML = "";
    box.appendChild(el("h3", { text: c.number + " " + c.category + " · " + c.state_name +
      (steps.deadline ? " · 时限 " + hhmm(steps.deadline) : "") + (steps.deadline_state === "overdue" ? "（已超期）" : "") }));
    box.appendChild(el("div", { class: "t2", text: c.description }));
    box.appendChild(el("h4", { text: "办理环节" }));
    var table = el("table", { class: "steps" }, [el("thead", {}, [el("tr", {}, ["环节", "处理人", "部门", "开始", "结束", "意见"].map(function (h) { return el("th", { text: h }); }))])]);
    var body = el("tbody");
    steps.steps.forEach(function (s) {
      body.appendChild(el("tr", { class: s.end ? "" : "now" }, [el("td", { text: s.stage_name }),
        el("td", { text: s.handler ? s.handler + (s.position ? "（" + s.position + "）" : "") : "待处理" }),
        el("td", { text: s.department || "" }), el("td", { text: hhmm(s.start) }), el("td", { text: s.end ? hhmm(s.end) : "进行中" }),
        el("td", { class: "op", text: s.opinion || "" })]));
    });
    table.appendChild(body);
    box.appendChild(table);
    box.appendChild(el("h4", { text: "处置前后对比" }));
    function figure(title, photos) {
      return el("figure", {}, [el("figcaption", { text: title + "（" + photos.length + "）" })].concat(photos.length ? photos.map(function (p) {
        return el("img", { src: p.url, alt: title + " " + p.stage_name, title: p.stage_name + " " + hhmm(p.uploaded_at), loading: "lazy" });
      }) : [el("span", { class: "hint", text: "无照片" })]));
    }
    box.appendChild(el("div", { class: "beforeafter" }, [figure("处置前", steps.before), figure("处置后", steps.after)]));
    box.appendChild(el("h4", { text: "周边 300 米案件（" + (nearby.cases || []).length + "）" }));
    var list = el("ul", { class: "nearby" });
    (nearby.cases || []).forEach(function (n) {
      list.appendChild(el("li", { tabindex: "0", onclick: function () { mapReady.then(function () { map.flyTo({ center: n.position.coordinates, zoom: 16 }); }); } },
        [n.number + " " + n.category.name + " · " + n.state_label + " · " + Math.round(n.metres) + " 米"]));
    });
    box.appendChild(list);
    mapReady.then(function () {
      map.getSource("nearby").setData({ type: "FeatureCollection", features: (nearby.cases || []).map(function (n) {
        return { type: "Feature", geometry: n.position, properties: { id: n.id } };
      }) });
    });
  }

  /* --- filters' choices, live counts -------------------------------------------------------- */
  function fillChoices() {
    var source = $("#filters").source;
    Object.keys(SOURCES).forEach(function (k) { source.appendChild(el("option", { value: k, text: SOURCES[k] })); });
    return api("/api/v1/screen/census?period=all&level=street").then(function (answer) {
      var area = $("#filters").area;
      answer.areas.slice().sort(function (a, b) { return a.code < b.code ? -1 : 1; }).forEach(function (a) {
        area.appendChild(el("option", { value: a.code, text: a.name }));
      });
    }).catch(function () { /* the list still works without the area choice */ });
  }
  function listen() {
    if (!window.EventSource) { return; }
    var source = new EventSource(cfg.streamUrl, { withCredentials: true });
    source.addEventListener("open", function () { $("#live").className = "live on"; });
    source.addEventListener("error", function () { $("#live").className = "live off"; });
    var pending = null;
    source.addEventListener("case", function (message) {
      var event = JSON.parse(message.data);
      clearTimeout(pending);
      pending = setTimeout(function () { loadStages(); loadCases(false, event.case); }, 400);
    });
  }

  $("#who").textContent = cfg.name;
  fillChoices();
  loadStages().then(function () { document.body.dataset.loaded = "yes"; });
  listen();
})();
