/* The field app (城管通, /m/): an inspector's phone. The map of their area with the components
   and where they are; reporting a case (上报) and a self-handled one (自行处置) with photos, the
   class's registration conditions (立案条件) and the server's precheck before sending; the task
   list (核实, 核查, 补采) with its answers; history of what was sent, waits or failed; clock-in.
   Everything sent goes through the outbox (outbox.js), which keeps it on the phone until the
   network takes it. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("field-config").textContent);
  window.FIELD_CSRF = cfg.csrfToken;
  var Outbox = window.FieldOutbox;
  Outbox.setUser(cfg.user);
  var KIND_NAMES = { report: "上报", self: "自行处置", answer: "任务反馈", clock: "离线打卡" };
  var TASK_BOXES = [["my_verify", "verify", "核实"], ["my_check", "check", "核查"], ["my_supplement", "supplement", "补采"]];
  var STATUS = { queued: "待发送", sending: "发送中", sent: "已发送", failed: "发送失败" };
  var MAX_PHOTO_SIDE = 1920;

  function $(s, root) { return (root || document).querySelector(s); }
  function $$(s, root) { return Array.prototype.slice.call((root || document).querySelectorAll(s)); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) { return; }
      if (k === "text") { node.textContent = v; }
      else if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), v); }
      else { node.setAttribute(k, v); }
    });
    (children || []).forEach(function (c) {
      if (c !== null && c !== undefined) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); }
    });
    return node;
  }
  function toast(text) {
    var t = $("#toast");
    t.textContent = text; t.classList.add("show");
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.classList.remove("show"); }, 3500);
  }
  function timeText(iso) {
    if (!iso) { return ""; }
    var d = new Date(iso), p = function (n) { return (n < 10 ? "0" : "") + n; };
    return (d.getMonth() + 1) + "月" + d.getDate() + "日 " + p(d.getHours()) + ":" + p(d.getMinutes());
  }
  function remember(key, value) {
    try { localStorage.setItem("citygrid.field." + cfg.user + "." + key, JSON.stringify(value)); } catch (e) { /* full */ }
  }
  function recall(key) {
    try { return JSON.parse(localStorage.getItem("citygrid.field." + cfg.user + "." + key)); } catch (e) { return null; }
  }

  $("#who").textContent = cfg.name;
  $("#me-name").textContent = cfg.name + "（" + cfg.user + "）";
  $("#me-area").textContent = "责任区域：" + (cfg.grids.concat(cfg.streets).join("、") || "未设置");

  /* --- the service worker: the app shell and the tiles it has seen work offline ------------- */
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/m/sw.js", { scope: "/m/" }).catch(function () { /* http without localhost */ });
  }

  /* --- network state and the outbox ------------------------------------------------------- */
  function online() { return navigator.onLine !== false; }
  function showNet() {
    Promise.all([Outbox.items(), Outbox.fixes()]).then(function (r) {
      var waiting = r[0].filter(function (i) { return i.status === "queued" || i.status === "sending"; }).length;
      var failed = r[0].filter(function (i) { return i.status === "failed"; }).length;
      var net = $("#net");
      net.className = "net " + (online() ? "on" : "off");
      net.textContent = (online() ? "在线" : "离线") + (waiting ? " · 待发送 " + waiting : "");
      var badge = $("#queue-badge");
      badge.hidden = !(waiting + failed);
      badge.textContent = String(waiting + failed);
      badge.className = failed ? "bad" : "";
      $("#fix-count").textContent = r[1].length ? "待发送的定位点：" + r[1].length + " 个" : "";
      renderHistory(r[0]);
    });
  }
  Outbox.onChange(showNet);
  window.addEventListener("online", function () { showNet(); Outbox.flush().then(reportFlush); loadTasks(); loadPool(); });
  window.addEventListener("offline", showNet);
  setInterval(function () { if (online()) { Outbox.flush().then(reportFlush); } }, 30000);
  function reportFlush(counts) {
    if (counts.sent) { toast("已发送 " + counts.sent + " 条" + (counts.failed ? "，失败 " + counts.failed + " 条" : "")); }
    else if (counts.failed) { toast("发送失败 " + counts.failed + " 条，请在“记录”中查看"); }
  }

  /* --- tabs ------------------------------------------------------------------------------ */
  function showTab(name) {
    $$("#tabs button").forEach(function (b) {
      var on = b.getAttribute("data-tab") === name;
      b.classList.toggle("active", on);
      if (on) { b.setAttribute("aria-current", "page"); } else { b.removeAttribute("aria-current"); }
    });
    $$(".tab").forEach(function (t) { t.classList.toggle("active", t.id === "tab-" + name); });
    if (name === "map" && map) { map.resize(); }
    if (name === "tasks") { loadTasks(); loadPool(); }
    if (name === "me") { loadClocks(); }
  }
  $$("#tabs button").forEach(function (b) {
    b.addEventListener("click", function () { showTab(b.getAttribute("data-tab")); });
  });

  /* --- the map ----------------------------------------------------------------------------- */
  var EMPTY = { type: "FeatureCollection", features: [] };
  var map = null, picking = false;
  var here = null;   /* the phone's position {lon, lat, accuracy} */
  /* On the first visit the worker takes the page only once it is installed: the map waits a
     moment for it, so the style, glyphs and tiles of this first view are cached too. */
  function workerTakesPage() {
    if (!("serviceWorker" in navigator) || navigator.serviceWorker.controller) { return Promise.resolve(); }
    return new Promise(function (resolve) {
      navigator.serviceWorker.addEventListener("controllerchange", resolve);
      setTimeout(resolve, 5000);
    });
  }
  var mapReady = workerTakesPage().then(function () { return fetch(cfg.styleUrl, { credentials: "same-origin" }); })
    .then(function (r) { return r.json(); })
    .then(function (style) {
      style = CityGridBase.calm(style, { components: "部件" });
      map = new maplibregl.Map({ container: "map", style: style, center: cfg.center, zoom: cfg.zoom,
        localIdeographFontFamily: CityGridBase.ideographs, attributionControl: false,
        dragRotate: false, pitchWithRotate: false });
      map.touchZoomRotate.disableRotation();
      map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "top-left");
      window.fieldMap = map;
      return new Promise(function (resolve) { map.on("load", resolve); });
    }).then(function () {
      CityGridBase.showLayer(map, "components", true);
      map.getStyle().layers.forEach(function (l) {  /* components from z15, where they can be told apart */
        if (l.metadata && l.metadata["citygrid:layer"] === "components") { map.setLayerZoomRange(l.id, 15, 24); }
      });
      map.addSource("area", { type: "geojson", data: cfg.area || EMPTY });
      map.addLayer({ id: "area-fill", type: "fill", source: "area", paint: { "fill-color": "#1f6f5c", "fill-opacity": 0.05 } });
      map.addLayer({ id: "area-line", type: "line", source: "area",
        paint: { "line-color": "#1f6f5c", "line-width": 2.5, "line-opacity": 0.8 } });
      map.addSource("here", { type: "geojson", data: EMPTY });
      map.addLayer({ id: "here-halo", type: "circle", source: "here",
        paint: { "circle-radius": 16, "circle-color": "#2563eb", "circle-opacity": 0.15 } });
      map.addLayer({ id: "here", type: "circle", source: "here",
        paint: { "circle-radius": 7, "circle-color": "#2563eb", "circle-stroke-color": "#fff", "circle-stroke-width": 2.5 } });
      map.addSource("pick", { type: "geojson", data: EMPTY });
      map.addLayer({ id: "pick", type: "circle", source: "pick",
        paint: { "circle-radius": 9, "circle-color": "#dc2626", "circle-stroke-color": "#fff", "circle-stroke-width": 3 } });
      if (cfg.area) { fitArea(); }
      showHere();
      map.on("click", onMapClick);
    }).catch(function () {
      $("#map").appendChild(el("p", { class: "map-off", text: "地图暂不可用（离线且未缓存）。仍可上报，位置取自定位。" }));
    });

  function fitArea() {
    var b = new maplibregl.LngLatBounds();
    (function walk(c) { if (typeof c[0] === "number") { b.extend(c); } else { c.forEach(walk); } })(cfg.area.coordinates);
    map.fitBounds(b, { padding: 30, duration: 0, maxZoom: 16 });
  }
  function showHere() {
    if (!map || !map.getSource("here") || !here) { return; }
    map.getSource("here").setData({ type: "Feature", geometry: { type: "Point", coordinates: [here.lon, here.lat] }, properties: {} });
  }
  $("#locate").addEventListener("click", function () {
    if (here && map) { map.easeTo({ center: [here.lon, here.lat], zoom: Math.max(map.getZoom(), 16) }); }
    else { toast("尚未取得定位"); }
  });

  /* --- location from the browser, and GPS fixes for the inspector's tracker ------------------ */
  var lastFixAt = 0;
  function onPosition(p) {
    here = { lon: p.coords.longitude, lat: p.coords.latitude, accuracy: p.coords.accuracy };
    $("#gps").textContent = "定位：精度 " + Math.round(p.coords.accuracy) + " 米 · " + timeText(new Date(p.timestamp).toISOString());
    showHere();
    if (!report.point || report.point.fromGps) { setPoint(here.lon, here.lat, true); }
    if (p.timestamp - lastFixAt >= cfg.fixSeconds * 1000) {
      lastFixAt = p.timestamp;
      var fix = { t: new Date(p.timestamp).toISOString(), lon: here.lon, lat: here.lat, crs: "EPSG:4326",
        accuracy: Math.round(p.coords.accuracy * 10) / 10 };
      if (p.coords.speed !== null && p.coords.speed >= 0) { fix.speed = p.coords.speed; }
      if (p.coords.heading !== null && p.coords.heading >= 0) { fix.heading = p.coords.heading; }
      Outbox.addFix(fix);
    }
  }
  if (navigator.geolocation) {
    navigator.geolocation.watchPosition(onPosition, function (e) {
      $("#gps").textContent = "定位不可用：" + (e.code === 1 ? "未授权定位" : "暂时无法定位");
    }, { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 });
  }

  /* --- categories (offline: the last list read) ---------------------------------------------- */
  var categories = recall("categories") || [];
  function loadCategories() {
    return Outbox.call("/api/v1/categories").then(function (d) {
      categories = [];
      d.categories.forEach(function (major) {
        major.children.forEach(function (minor) {
          categories.push({ code: minor.code, name: minor.name, kind: minor.kind, major: major.name,
            conditions: minor.register_conditions.map(function (c) { return c.text; }),
            standard: minor.manual ? minor.manual.standard : "" });
        });
      });
      remember("categories", categories);
    }).catch(function () { /* offline: the remembered list */ });
  }
  loadCategories();

  /* --- the report sheet -------------------------------------------------------------------- */
  var report = { mode: "report", category: null, point: null, component: "", files: { photos: [], before: [], after: [] } };

  function formKind() { return $("input[name='kind']:checked", $("#report-form")).value; }

  function openSheet(mode) {
    report.mode = mode;
    $("#sheet-title").textContent = mode === "self" ? "自行处置" : "上报问题";
    $$(".self-only").forEach(function (n) { n.hidden = mode !== "self"; });
    $("#photos-report").hidden = mode === "self";
    $("#sheet").hidden = false;
    document.body.classList.add("sheet-open");
    if (here && (!report.point || report.point.fromGps)) { setPoint(here.lon, here.lat, true); }
    setTimeout(function () { $("#category-search").focus(); }, 50);
    runPrecheck();
  }
  function closeSheet() { $("#sheet").hidden = true; document.body.classList.remove("sheet-open"); }
  function resetReport() {
    $("#report-form").reset();
    report.category = null; report.component = ""; report.point = here ? { lon: here.lon, lat: here.lat, fromGps: true } : null;
    Object.keys(report.files).forEach(function (k) { report.files[k].length = 0; });  /* in place: wirePhotos holds it */
    $$(".thumbs", $("#report-form")).forEach(function (t) { t.textContent = ""; });
    $("#category-chosen").hidden = true; $("#conditions").hidden = true;
    $("#category-results").textContent = ""; $("#component-chosen").textContent = "";
    $("#precheck").hidden = true; $("#form-error").textContent = "";
    if (map && map.getSource("pick")) { map.getSource("pick").setData(EMPTY); }
    showWhere();
  }
  $("#open-report").addEventListener("click", function () { openSheet("report"); });
  $("#open-self").addEventListener("click", function () { openSheet("self"); });
  $("#sheet-close").addEventListener("click", closeSheet);
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && !$("#sheet").hidden) { closeSheet(); }
  });

  /* category search */
  function search(q) {
    var kind = formKind(), list = $("#category-results");
    list.textContent = "";
    q = (q || "").trim();
    if (!q) { return; }
    var hits = categories.filter(function (c) {
      return c.kind === kind && (c.name.indexOf(q) >= 0 || c.code.indexOf(q) === 0 || c.major.indexOf(q) >= 0);
    }).slice(0, 8);
    if (!hits.length) { list.appendChild(el("li", { class: "empty", text: categories.length ? "没有匹配的类别" : "类别未加载（需联网一次）" })); }
    hits.forEach(function (c) {
      list.appendChild(el("li", {}, [el("button", { type: "button", role: "option", "data-code": c.code,
        onclick: function () { chooseCategory(c); } }, [el("b", { text: c.name }), el("span", { text: c.major + " · " + c.code })])]));
    });
  }
  $("#category-search").addEventListener("input", function (e) { search(e.target.value); });
  $$("input[name='kind']").forEach(function (r) {
    r.addEventListener("change", function () {
      if (report.category && report.category.kind !== formKind()) { chooseCategory(null); }
      search($("#category-search").value);
    });
  });

  function chooseCategory(c) {
    report.category = c;
    $("#category-results").textContent = "";
    var chosen = $("#category-chosen"), conditions = $("#conditions");
    if (!c) { chosen.hidden = true; conditions.hidden = true; runPrecheck(); return; }
    $("#category-search").value = c.name;
    chosen.hidden = false;
    chosen.textContent = "";
    chosen.appendChild(el("b", { text: c.major + " › " + c.name }));
    chosen.appendChild(el("span", { text: " " + c.code }));
    conditions.hidden = false;
    conditions.textContent = "";
    conditions.appendChild(el("h3", { text: "立案条件" }));
    var ul = el("ul");
    (c.conditions.length ? c.conditions : ["（该类别未设立案条件）"]).forEach(function (t) { ul.appendChild(el("li", { text: t })); });
    conditions.appendChild(ul);
    if (c.standard) { conditions.appendChild(el("p", { class: "note", text: "处置标准：" + c.standard })); }
    runPrecheck();
  }

  /* the point: the phone's position, a tap on the map, or a component */
  function setPoint(lon, lat, fromGps) {
    report.point = { lon: lon, lat: lat, fromGps: !!fromGps };
    if (!fromGps && map && map.getSource("pick")) {
      map.getSource("pick").setData({ type: "Feature", geometry: { type: "Point", coordinates: [lon, lat] }, properties: {} });
    }
    showWhere();
  }
  function showWhere() {
    var p = report.point;
    $("#where-text").textContent = !p ? "等待定位…" :
      (p.fromGps ? "当前位置" : "地图选点") + "（" + p.lon.toFixed(5) + ", " + p.lat.toFixed(5) + "）";
  }
  $("#pick-on-map").addEventListener("click", function () {
    picking = true; closeSheet(); showTab("map");
    $("#pick-hint").hidden = false;
  });
  $("#pick-cancel").addEventListener("click", function () { picking = false; $("#pick-hint").hidden = true; openSheet(report.mode); });

  function onMapClick(e) {
    if (!picking) { return; }
    picking = false;
    $("#pick-hint").hidden = true;
    var box = [[e.point.x - 12, e.point.y - 12], [e.point.x + 12, e.point.y + 12]];
    var hit = map.queryRenderedFeatures(box).filter(function (f) {
      return f.layer.metadata && f.layer.metadata["citygrid:layer"] === "components" && f.properties.code;
    })[0];
    if (hit) {
      var code = String(hit.properties.code), minor = code.slice(6, 10);
      var c = categories.filter(function (x) { return x.kind === "component" && x.code === minor; })[0];
      report.component = code;
      $("input[name='kind'][value='component']").checked = true;
      if (c) { chooseCategory(c); }
      var at = hit.geometry.type === "Point" ? hit.geometry.coordinates : [e.lngLat.lng, e.lngLat.lat];
      setPoint(at[0], at[1], false);
      $("#component-chosen").textContent = "部件：" + (hit.properties.name || (c ? c.name : "")) + " " + code;
    } else {
      report.component = "";
      $("#component-chosen").textContent = "";
      setPoint(e.lngLat.lng, e.lngLat.lat, false);
    }
    openSheet(report.mode);
  }

  /* photos: scaled on the phone to at most MAX_PHOTO_SIDE, JPEG */
  function shrink(file) {
    if (!window.createImageBitmap || !/^image\//.test(file.type)) { return Promise.resolve(file); }
    return createImageBitmap(file).then(function (img) {
      var k = Math.min(1, MAX_PHOTO_SIDE / Math.max(img.width, img.height));
      if (k === 1 && file.size < 1.5e6) { return file; }
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(img.width * k); canvas.height = Math.round(img.height * k);
      canvas.getContext("2d").drawImage(img, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (b) { resolve(b || file); }, "image/jpeg", 0.85);
      });
    }).catch(function () { return file; });
  }
  function wirePhotos(form, files) {
    $$("input[type='file']", form).forEach(function (input) {
      input.addEventListener("change", function () {
        var name = input.name, box = $(".thumbs[data-for='" + name + "']", form);
        Promise.all(Array.prototype.map.call(input.files, shrink)).then(function (blobs) {
          blobs.forEach(function (blob) {
            files[name] = files[name] || [];
            files[name].push(blob);
            var url = URL.createObjectURL(blob);
            var thumb = el("span", { class: "thumb" }, [el("img", { src: url, alt: "照片" }),
              el("button", { type: "button", "aria-label": "删除照片", text: "×", onclick: function () {
                files[name].splice(files[name].indexOf(blob), 1); thumb.remove(); URL.revokeObjectURL(url);
              } })]);
            box.appendChild(thumb);
          });
          input.value = "";
        });
      });
    });
  }
  wirePhotos($("#report-form"), report.files);

  /* precheck (上报预检): placement, cross-grid, no-report rules, similar cases */
  var precheckTimer = null, precheckAnswer = null;
  function precheckBody() {
    if (!report.category || !report.point) { return null; }
    return { kind: report.category.kind, category: report.category.code, source: "inspector",
      description: $("textarea[name='description']").value, lon: report.point.lon, lat: report.point.lat,
      crs: "EPSG:4326", level: $("select[name='level']").value, urgent: $("input[name='urgent']").checked,
      address: $("input[name='address']").value, component: report.component };
  }
  function runPrecheck() {
    clearTimeout(precheckTimer);
    precheckAnswer = null;
    var box = $("#precheck");
    if (!cfg.precheckUrl) { box.hidden = true; return; }
    var body = precheckBody();
    if (!body) { box.hidden = true; return; }
    if (!online()) {
      box.hidden = false; box.className = "precheck note";
      box.textContent = "离线：无法预检，联网发送时服务器会再次检查。";
      $("#send").disabled = false;
      return;
    }
    box.hidden = false; box.className = "precheck note"; box.textContent = "正在预检…";
    precheckTimer = setTimeout(function () {
      var asked = JSON.stringify(body);
      Outbox.call(cfg.precheckUrl, { json: body }).then(function (a) {
        if (JSON.stringify(precheckBody()) !== asked) { return; }
        precheckAnswer = a;
        showPrecheck(a);
      }).catch(function (e) {
        box.className = "precheck note";
        box.textContent = e.network ? "离线：无法预检，联网发送时服务器会再次检查。" : "预检未通过：" + e.message;
      });
    }, 400);
  }
  function showPrecheck(a) {
    var box = $("#precheck"), items = [];
    box.textContent = "";
    if (a.cross_grid && a.cross_grid.outside) {
      items.push(["warn", "跨网格提醒：该位置不在您的责任网格" + (a.cross_grid.grids.length ? "（" + a.cross_grid.grids.join("、") + "）" : "") + "内。"]);
    }
    (a.rules || []).forEach(function (r) {
      items.push([r.action === "forbid" ? "block" : "warn", r.action_name + "：" + r.name +
        (r.reason ? "，" + r.reason : "") + (r.requirement ? "（采集要求：" + r.requirement + "）" : "")]);
    });
    if (a.similar_count) {
      items.push([a.similar_refused ? "block" : "warn", "附近已有 " + a.similar_count + " 件相似案件（" +
        a.similar_rule.metres + " 米、" + a.similar_rule.hours + " 小时内）" + (a.similar_refused ? "，该类别不接受重复上报" : "，请确认不是重复上报")]);
      (a.similar || []).slice(0, 3).forEach(function (s) {
        items.push(["info", s.number + " " + s.category.name + " · " + s.state_name + " · " + Math.round(s.distance_m) + " 米"]);
      });
    }
    var blocked = a.allowed === false;
    box.className = "precheck " + (blocked ? "blocked" : items.length ? "warned" : "ok");
    box.appendChild(el("h3", { text: blocked ? "不能上报" : items.length ? "上报提醒" : "预检通过" }));
    var ul = el("ul");
    items.forEach(function (i) { ul.appendChild(el("li", { class: i[0], text: i[1] })); });
    if (items.length) { box.appendChild(ul); }
    if (a.placement && a.placement.street) {
      box.appendChild(el("p", { class: "note", text: "位置：" + [a.placement.street && a.placement.street.name,
        a.placement.community && a.placement.community.name, a.placement.responsibility_grid && a.placement.responsibility_grid.name]
        .filter(Boolean).join(" · ") }));
    }
    $("#send").disabled = blocked;
  }
  ["textarea[name='description']", "select[name='level']", "input[name='urgent']"].forEach(function (s) {
    $(s).addEventListener("change", runPrecheck);
  });

  /* sending: into the outbox first */
  $("#report-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var error = $("#form-error"), files = report.files;
    var problem = !report.category ? "请选择问题类别" : !report.point ? "还没有位置：请等待定位或在地图上选点" :
      !$("textarea[name='description']").value.trim() ? "请填写问题描述" :
      report.mode === "self" && !files.before.length ? "请拍摄处置前照片" :
      report.mode === "self" && !files.after.length ? "请拍摄处置后照片" : "";
    if (problem) { error.textContent = problem; return; }
    if (precheckAnswer && precheckAnswer.allowed === false) { error.textContent = "预检不允许上报"; return; }
    error.textContent = "";
    var key = Outbox.uuid(), b = precheckBody();
    b.report_key = key;
    var title = report.category.name + " · " + (b.address || b.description.slice(0, 16));
    var item = report.mode === "self"
      ? { key: key, kind: "self", title: title, body: b, before: files.before.slice(), after: files.after.slice() }
      : { key: key, kind: "report", title: title, body: b, photos: files.photos.slice() };
    Outbox.add(item).then(function () {
      toast(online() ? "已提交，正在发送" : "已保存到手机，联网后自动发送");
      resetReport();
      closeSheet();
    });
  });

  /* --- tasks (核实, 核查, 补采) ------------------------------------------------------------ */
  var answered = recall("answered") || {};
  function loadTasks() {
    if (!online()) { renderTasks(recall("tasks") || [], true); return Promise.resolve(); }
    return Promise.all(TASK_BOXES.map(function (box) {
      return Outbox.call("/api/v1/cases?box=" + box[0] + "&limit=100").then(function (d) {
        return d.features.map(function (f) {
          return { id: f.id, action: box[1], kindName: box[2], version: f.properties.version, number: f.properties.number,
            category: f.properties.category.name, description: f.properties.description, address: f.properties.address,
            deadline: f.properties.deadline, deadlineState: f.properties.deadline_state, lon: f.geometry.coordinates[0],
            lat: f.geometry.coordinates[1] };
        });
      });
    })).then(function (lists) {
      var tasks = [].concat.apply([], lists);
      remember("tasks", tasks);
      renderTasks(tasks, false);
    }).catch(function () { renderTasks(recall("tasks") || [], true); });
  }
  $("#tasks-reload").addEventListener("click", function () { loadTasks(); loadPool(); });

  /* The grid's task pool (任务池): tasks sent to the grid, claimed by the first inspector. */
  function loadPool() {
    var list = $("#pool-list");
    if (!online()) { return Promise.resolve(); }
    return Outbox.call("/api/v1/cases/task-pool").then(function (d) {
      list.textContent = "";
      $("#pool-title").hidden = !d.tasks.length;
      d.tasks.forEach(function (t) {
        list.appendChild(el("li", { class: "card task", "data-pool-task": String(t.task) }, [
          el("div", { class: "card-head" }, [el("span", { class: "chip " + t.kind, text: t.kind_name }), el("b", { text: t.category }),
            el("span", { class: "chip " + (t.overdue ? "overdue" : ""), text: t.overdue ? "超期" : "" })]),
          el("p", { class: "note", text: t.number + (t.address ? " · " + t.address : "") + (t.deadline ? " · 时限 " + timeText(t.deadline) : "") }),
          el("div", { class: "two" }, [
            el("button", { type: "button", class: "small", text: "在地图上看", onclick: function () {
              showTab("map");
              if (map) { map.easeTo({ center: [t.lon, t.lat], zoom: 17 }); }
            } }),
            el("button", { type: "button", class: "primary", text: "认领", onclick: function (e) {
              e.target.disabled = true;
              Outbox.call("/api/v1/cases/" + t.case + "/tasks/" + t.task + "/claim", { method: "POST" }).then(function () {
                toast("已认领：" + t.number); loadTasks(); loadPool();
              }).catch(function (error) { e.target.disabled = false; toast(error.message || "认领失败"); loadPool(); });
            } })
          ])
        ]));
      });
    }).catch(function () { /* offline or not an inspector: no pool shown */ });
  }

  function renderTasks(tasks, stale) {
    var list = $("#task-list");
    list.textContent = "";
    var open = tasks.filter(function (t) { return answered[t.id + ":" + t.version] === undefined; });
    $("#tasks-note").textContent = stale ? "离线：显示上次读取的任务" : "";
    var badge = $("#task-badge");
    badge.hidden = !open.length; badge.textContent = String(open.length);
    if (!open.length) { list.appendChild(el("li", { class: "empty", text: "暂无待办任务" })); }
    open.forEach(function (t) {
      var card = el("li", { class: "card task", "data-case": t.id }, [
        el("div", { class: "card-head" }, [el("span", { class: "chip " + t.action, text: t.kindName }),
          el("b", { text: t.category }), el("span", { class: "chip " + (t.deadlineState || ""), text: t.deadlineState === "overdue" ? "超期" : t.deadlineState === "warning" ? "预警" : "" })]),
        el("p", { text: t.description }),
        el("p", { class: "note", text: t.number + (t.address ? " · " + t.address : "") + (t.deadline ? " · 时限 " + timeText(t.deadline) : "") })
      ]);
      card.appendChild(el("div", { class: "two" }, [
        el("button", { type: "button", class: "small", text: "在地图上看", onclick: function () {
          showTab("map");
          if (map) { map.easeTo({ center: [t.lon, t.lat], zoom: 17 }); map.getSource("pick").setData({ type: "Feature", geometry: { type: "Point", coordinates: [t.lon, t.lat] }, properties: {} }); }
        } }),
        el("button", { type: "button", class: "primary", text: "反馈", "aria-expanded": "false", onclick: function (e) {
          var open = card.querySelector("form");
          if (open) { open.remove(); e.target.setAttribute("aria-expanded", "false"); return; }
          e.target.setAttribute("aria-expanded", "true");
          card.appendChild(answerForm(t));
        } })
      ]));
      list.appendChild(card);
    });
  }

  function answerForm(t) {
    var files = { photos: [] };
    var form = el("form", { class: "answer", novalidate: "novalidate" });
    if (t.action === "verify" || t.action === "check") {
      var yes = t.action === "verify" ? "属实" : "已处置好", no = t.action === "verify" ? "不属实" : "未处置好";
      form.appendChild(el("fieldset", { class: "seg", "aria-label": "结果" }, [
        el("label", {}, [el("input", { type: "radio", name: "result", value: "yes", checked: "checked" }), el("span", { text: yes })]),
        el("label", {}, [el("input", { type: "radio", name: "result", value: "no" }), el("span", { text: no })])
      ]));
    }
    form.appendChild(el("label", { class: "field" }, [t.action === "supplement" ? "补采说明" : "意见",
      el("textarea", { name: "opinion", rows: "2", maxlength: "2000", required: "required" })]));
    form.appendChild(el("div", { class: "field" }, ["照片",
      el("label", { class: "photo-pick" }, ["拍照", el("input", { type: "file", name: "photos", accept: "image/*", capture: "environment", multiple: "multiple" })]),
      el("div", { class: "thumbs", "data-for": "photos" })]));
    var error = el("p", { class: "error", role: "alert" });
    form.appendChild(error);
    form.appendChild(el("button", { type: "submit", class: "primary wide", text: "提交反馈" }));
    wirePhotos(form, files);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var opinion = form.querySelector("textarea").value.trim();
      if (!opinion) { error.textContent = "请填写" + (t.action === "supplement" ? "补采说明" : "意见"); return; }
      if (t.action === "supplement" && !files.photos.length) { error.textContent = "补采需要至少一张照片"; return; }
      var body = { version: t.version, opinion: opinion };
      var result = form.querySelector("input[name='result']:checked");
      if (t.action === "verify") { body.valid = result.value === "yes"; }
      if (t.action === "check") { body.passed = result.value === "yes"; }
      Outbox.add({ kind: "answer", title: t.kindName + " · " + t.number + " · " + t.category, caseId: t.id,
        action: t.action, task: t.action, userId: cfg.userId, body: body, photos: files.photos.slice() }).then(function () {
        answered[t.id + ":" + t.version] = true;
        remember("answered", answered);
        toast(online() ? "反馈已提交" : "反馈已保存，联网后自动发送");
        renderTasks(recall("tasks") || [], !online());
      });
    });
    return form;
  }

  /* --- history (上报记录) -------------------------------------------------------------------- */
  function renderHistory(items) {
    var list = $("#history-list");
    list.textContent = "";
    items.sort(function (a, b) { return a.created < b.created ? 1 : -1; });
    if (!items.length) { list.appendChild(el("li", { class: "empty", text: "还没有上报记录" })); }
    items.forEach(function (i) {
      var photos = (i.photos || []).length + (i.before || []).length + (i.after || []).length;
      var card = el("li", { class: "card history " + i.status, "data-key": i.key }, [
        el("div", { class: "card-head" }, [el("span", { class: "chip", text: KIND_NAMES[i.kind] }), el("b", { text: i.title }),
          el("span", { class: "chip status " + i.status, text: STATUS[i.status] })]),
        el("p", { class: "note", text: timeText(i.created) + (photos ? " · 照片 " + photos + " 张" : "") +
          (i.number ? " · 任务号 " + i.number : "") + (i.sentAt ? " · 发送于 " + timeText(i.sentAt) : "") })
      ]);
      (i.warnings || []).forEach(function (w) {
        card.appendChild(el("p", { class: "warn", text: "提醒：" + (w.action_name ? w.action_name + " · " : "") +
          (w.name || "") + (w.reason ? "，" + w.reason : "") }));
      });
      if (i.error && i.status !== "sent") { card.appendChild(el("p", { class: i.status === "failed" ? "error" : "note", text: (i.status === "failed" ? "失败原因：" : "等待网络：") + i.error })); }
      if (i.status === "failed") {
        card.appendChild(el("div", { class: "two" }, [
          el("button", { type: "button", class: "primary", text: "重新发送", onclick: function () { Outbox.retry(i.key).then(reportFlush); } }),
          el("button", { type: "button", text: "删除", onclick: function () { if (confirm("删除这条未发送的记录？")) { Outbox.remove(i.key); } } })
        ]));
      }
      list.appendChild(card);
    });
  }
  $("#send-now").addEventListener("click", function () {
    if (!online()) { toast("当前离线，联网后自动发送"); return; }
    Outbox.flush().then(function (c) { reportFlush(c); if (!c.sent && !c.failed) { toast("没有待发送的记录"); } });
  });

  /* --- clock-in (考勤打卡): online, the server's time; offline, queued with the phone's time
     (离线打卡), accepted up to 12 hours later and shown as made offline ------------------- */
  var clockFiles = { photo: [] };
  (function () {
    var form = $("#clock-form"), input = $("input[name='photo']", form);
    input.addEventListener("change", function () {
      var box = $(".thumbs[data-for='photo']", form);
      box.textContent = "";
      clockFiles.photo = [];
      if (!input.files.length) { return; }
      shrink(input.files[0]).then(function (b) {
        clockFiles.photo = [b];
        box.appendChild(el("span", { class: "thumb" }, [el("img", { src: URL.createObjectURL(b), alt: "打卡照片" })]));
      });
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var kind = (e.submitter && e.submitter.value) || "in";
      if (!here) { toast("尚未取得定位，无法打卡"); return; }
      if (!clockFiles.photo.length) { toast("请先拍一张打卡照片"); return; }
      if (!online()) {
        var label = kind === "out" ? "下班" : "上班";
        Outbox.add({ kind: "clock", title: label + "打卡 " + timeText(new Date().toISOString()),
          body: { kind: kind, lon: here.lon, lat: here.lat, crs: "EPSG:4326", accuracy: Math.round(here.accuracy),
                  taken_at: new Date().toISOString() },
          photos: clockFiles.photo.slice() }).then(function () {
          toast(label + "打卡已保存，联网后自动发送（按拍照时间记录）");
          form.reset(); $(".thumbs[data-for='photo']", form).textContent = ""; clockFiles.photo = [];
        });
        return;
      }
      var data = new FormData();
      data.append("kind", kind); data.append("lon", here.lon); data.append("lat", here.lat);
      data.append("crs", "EPSG:4326"); data.append("accuracy", Math.round(here.accuracy));
      data.append("photo", clockFiles.photo[0], "clock.jpg");
      Outbox.call("/api/v1/tracking/clock", { form: data }).then(function (c) {
        toast(c.kind_label + "成功" + (c.off_grid ? "（不在责任网格内）" : ""));
        form.reset(); $(".thumbs[data-for='photo']", form).textContent = ""; clockFiles.photo = [];
        loadClocks();
      }).catch(function (err) { toast("打卡失败：" + err.message); });
    });
  })();
  function loadClocks() {
    if (!online()) { return; }
    Outbox.call("/api/v1/tracking/clocks").then(function (d) {
      var list = $("#clock-list");
      list.textContent = "";
      d.clocks.forEach(function (c) {
        list.appendChild(el("li", { text: c.kind_label + " " + timeText(c.at) + (c.grid ? " · " + c.grid.name : "") + (c.off_grid ? " · 网格外" : "") +
          (c.offline ? " · 离线打卡" : "") }));
      });
      if (!d.clocks.length) { list.appendChild(el("li", { class: "note", text: "今天还没有打卡" })); }
    }).catch(function () { /* no tracker: nothing to list */ });
  }

  resetReport();
  showNet();
  loadTasks();
  loadPool();
  Outbox.flush().then(reportFlush);
  window.fieldApp = { flush: Outbox.flush, ready: mapReady };
})();
