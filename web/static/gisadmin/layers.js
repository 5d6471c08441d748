/* The layers page (图层管理): upload a file and follow its import job, the layer list with
   preview, count and extent, and style editing live on the map, saved with PATCH. */
(function () {
  "use strict";
  var G = window.GisAdmin, el = G.el, cfg = G.cfg;
  var PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d",
    "#1f78b4", "#b15928", "#6a3d9a", "#e31a1c", "#33a02c"];
  var STATES = { pending: "排队中", running: "导入中", succeeded: "导入完成", failed: "导入失败" };
  var GEOMETRY = { point: "点", line: "线", polygon: "面" };
  var map = null, layers = [], selected = null, categories = [];
  var upload = document.getElementById("upload"), styleForm = document.getElementById("style");

  function kindOf(layer) {
    var t = (layer.geometry_type || "").toLowerCase();
    return t.indexOf("point") >= 0 ? "point" : t.indexOf("line") >= 0 ? "line" : "polygon";
  }

  function fmtExtent(e) {
    return e ? e.map(function (v) { return v.toFixed(4); }).join(", ") : "—";
  }

  /* ---- the map ---- */
  function loadStyle() {
    return fetch(cfg.styleUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); })
      .then(function (style) { return G.quiet(style); });
  }

  function styleLayersOf(key) {
    return map.getStyle().layers.filter(function (l) { return l.metadata && l.metadata["citygrid:layer"] === key; });
  }

  function colourOf(layer) {
    if (layer.style && layer.style.color) { return layer.style.color; }
    if (!map) { return "#888888"; }
    var found = null;
    styleLayersOf(layer.key).forEach(function (l) {
      var p = l.paint || {};
      var c = p["line-color"] || p["circle-color"] || p["fill-color"];
      if (!found && typeof c === "string") { found = c; }
    });
    return found || "#888888";
  }

  /* ---- the layer list ---- */
  function loadLayers() {
    return G.api("GET", "/api/v1/layers").then(function (answer) {
      layers = answer.layers.filter(function (l) { return l.kind !== "raster"; });
      renderList();
    });
  }

  function renderList() {
    var list = document.getElementById("layer-list");
    list.innerHTML = "";
    layers.forEach(function (layer) {
      var row = el("li", { tabindex: "0", "data-key": layer.key, class: selected && selected.key === layer.key ? "selected" : null }, [
        el("div", { class: "title" }, [el("span", { class: "swatch", style: "background:" + colourOf(layer) }), layer.title,
          el("span", { class: "badge", text: GEOMETRY[kindOf(layer)] + (layer.kind === "managed" ? "·专题" : "·核心") }),
          el("span", { class: "badge" + (layer.public ? " public" : ""), text: layer.public ? "公开" : "授权" })]),
        el("div", { class: "meta", text: layer.key + " · " + (layer.feature_count === null ? "—" : layer.feature_count) + " 个要素 · 级别 " + layer.min_zoom + "–" + layer.max_zoom }),
        el("div", { class: "meta", text: "范围 " + fmtExtent(layer.extent) })]);
      row.addEventListener("click", function () { select(layer.key); });
      row.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(layer.key); } });
      list.appendChild(row);
    });
  }

  function select(key) {
    selected = layers.filter(function (l) { return l.key === key; })[0] || null;
    renderList();
    var editor = document.getElementById("editor");
    editor.hidden = !selected;
    if (!selected) { return; }
    G.clearErrors(styleForm);
    document.getElementById("editor-title").textContent = "样式：" + selected.title;
    document.getElementById("layer-facts").textContent = selected.key + " · " + (selected.geometry_type || "") + " · " +
      (selected.feature_count === null ? "—" : selected.feature_count) + " 个要素";
    fillEditor(selected);
    editor.scrollIntoView({ block: "start" });
    styleLayersOf(selected.key).forEach(function (l) { map.setLayoutProperty(l.id, "visibility", "visible"); });
    if (selected.extent) {
      var e = selected.extent;
      map.fitBounds([[e[0], e[1]], [e[2], e[3]]], { padding: 60, maxZoom: 17, duration: 0 });
    }
  }

  function fillEditor(layer) {
    var s = layer.style || {}, kind = kindOf(layer), f = styleForm.elements;
    f.color.value = s.color || colourOf(layer);
    f.width.value = s.width !== undefined ? s.width : (kind === "point" ? 4 : kind === "line" ? 2 : 1);
    f.opacity.value = s.opacity !== undefined ? s.opacity : (kind === "polygon" ? 0.12 : 1);
    f.min_zoom.value = layer.min_zoom; f.max_zoom.value = layer.max_zoom;
    f.public.checked = layer.public;
    [f.label_field, f.by_field].forEach(function (select) {
      select.length = 1;
      (layer.fields || []).forEach(function (field) {
        select.appendChild(el("option", { value: field.name, text: (field.alias && field.alias !== field.name ? field.alias + "（" + field.name + "）" : field.name) }));
      });
    });
    f.label_field.value = s.label_field || "";
    f.by_field.value = s.by_field || "";
    categories = (s.categories || []).map(function (c) { return { value: c.value, color: c.color }; });
    renderCategories();
  }

  function renderCategories() {
    var list = document.getElementById("categories");
    list.innerHTML = "";
    categories.forEach(function (c, i) {
      var input = el("input", { type: "color", value: c.color, "aria-label": "“" + c.value + "”的颜色" });
      input.addEventListener("input", function () { categories[i].color = input.value; preview(); });
      list.appendChild(el("li", {}, [el("span", { text: c.value === "" ? "（空）" : c.value }), input]));
    });
  }

  /* The distinct values of `field` among the layer's first features (OGC API Features). */
  function valuesOf(key, field) {
    return G.api("GET", "/ogc/collections/" + encodeURIComponent(key) + "/items?limit=1000").then(function (fc) {
      var seen = {}, out = [];
      fc.features.forEach(function (f) {
        var v = f.properties[field];
        var text = v === null || v === undefined ? "" : String(v);
        if (!seen[text] && out.length < 12) { seen[text] = true; out.push(text); }
      });
      return out.sort();
    });
  }

  /* Gives the style the form describes (what PATCH saves). */
  function formStyle() {
    var f = styleForm.elements, s = { color: f.color.value, width: parseFloat(f.width.value), opacity: parseFloat(f.opacity.value) };
    if (f.label_field.value) { s.label_field = f.label_field.value; }
    if (f.by_field.value && categories.length) { s.by_field = f.by_field.value; s.categories = categories; }
    ["color_light", "color_dark", "attribution"].forEach(function (k) {
      if (selected.style && selected.style[k] && k === "attribution") { s[k] = selected.style[k]; }
    });
    return s;
  }

  /* Applies the form to the map without saving: the same paint the server's style will give. */
  function preview() {
    if (!selected) { return; }
    var s = formStyle(), key = selected.key, kind = kindOf(selected);
    var colour = s.by_field ? ["match", ["to-string", ["get", s.by_field]]].concat(
      [].concat.apply([], s.categories.map(function (c) { return [c.value, c.color]; })), [s.color]) : s.color;
    styleLayersOf(key).forEach(function (l) {
      if (l.type === "fill") { map.setPaintProperty(l.id, "fill-color", colour); map.setPaintProperty(l.id, "fill-opacity", s.opacity); }
      else if (l.type === "line") { map.setPaintProperty(l.id, "line-color", colour); map.setPaintProperty(l.id, "line-width", s.width); }
      else if (l.type === "circle" && l.id === key + "-point") {
        map.setPaintProperty(l.id, "circle-color", colour); map.setPaintProperty(l.id, "circle-radius", s.width);
        map.setPaintProperty(l.id, "circle-opacity", s.opacity);
      }
    });
    var labelId = key + "-label";
    if (map.getLayer(labelId)) {
      if (s.label_field) {
        map.setLayoutProperty(labelId, "text-field", ["to-string", ["get", s.label_field]]);
        map.setLayoutProperty(labelId, "visibility", "visible");
      } else { map.setLayoutProperty(labelId, "visibility", "none"); }
    } else if (s.label_field) {
      var source = styleLayersOf(key)[0];
      map.addLayer({ id: labelId, type: "symbol", source: source.source, "source-layer": key,
        metadata: { "citygrid:layer": key }, minzoom: selected.min_zoom,
        layout: { "text-field": ["to-string", ["get", s.label_field]], "text-font": labelFont(), "text-size": 12,
          "text-anchor": kind === "point" ? "top" : "center", "text-offset": kind === "point" ? [0, 0.6] : [0, 0] },
        paint: { "text-color": s.color, "text-halo-color": "#ffffff", "text-halo-width": 1.6 } });
    }
    if (map.getLayer(labelId) && map.getLayer(labelId).type === "symbol") {
      map.setPaintProperty(labelId, "text-color", s.color);
    }
    var low = parseInt(styleForm.elements.min_zoom.value, 10), high = parseInt(styleForm.elements.max_zoom.value, 10);
    if (!isNaN(low) && !isNaN(high) && low <= high) {
      styleLayersOf(key).forEach(function (l) { map.setLayerZoomRange(l.id, low, Math.min(high + 1, 24)); });
    }
  }

  function labelFont() {
    var found = null;
    map.getStyle().layers.forEach(function (l) { if (!found && l.layout && l.layout["text-font"]) { found = l.layout["text-font"]; } });
    return found || ["WenQuanYi Micro Hei Regular"];
  }

  styleForm.addEventListener("input", function (e) {
    if (e.target.name === "by_field") { return; }
    G.clearErrors(styleForm);
    preview();
  });
  styleForm.elements.by_field.addEventListener("change", function () {
    var field = styleForm.elements.by_field.value;
    if (!field) { categories = []; renderCategories(); preview(); return; }
    valuesOf(selected.key, field).then(function (values) {
      categories = values.map(function (v, i) { return { value: v, color: PALETTE[i % PALETTE.length] }; });
      renderCategories();
      preview();
    }, function (err) { G.showError(styleForm, { field: "style", message: "读取字段取值失败：" + err.message }); });
  });

  document.getElementById("style-reset").addEventListener("click", function () { reloadMap().then(function () { select(selected.key); }); });

  styleForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var f = styleForm.elements;
    var body = { style: formStyle(), min_zoom: parseInt(f.min_zoom.value, 10), max_zoom: parseInt(f.max_zoom.value, 10), public: f.public.checked };
    if (isNaN(body.min_zoom) || isNaN(body.max_zoom)) { G.showError(styleForm, { field: "min_zoom", message: "请填写 0–24 的级别" }); return; }
    if (body.min_zoom > body.max_zoom) { G.showError(styleForm, { field: "min_zoom", message: "最小级别不能大于最大级别" }); return; }
    G.api("PATCH", "/api/v1/layers/" + encodeURIComponent(selected.key), body).then(function () {
      G.toast("样式已保存：" + selected.title);
      var key = selected.key;
      return Promise.all([loadLayers(), reloadMap()]).then(function () { select(key); });
    }, function (err) { G.showError(styleForm, err); });
  });

  function reloadMap() {
    return loadStyle().then(function (style) {
      map.setStyle(style, { diff: false });
      return new Promise(function (resolve) {
        (function wait() { if (map.isStyleLoaded()) { resolve(); } else { setTimeout(wait, 50); } })();
      });
    });
  }

  /* ---- upload and the import job ---- */
  upload.elements.target.addEventListener("change", function () {
    document.getElementById("map-field").hidden = upload.elements.target.value === "managed";
  });

  upload.addEventListener("submit", function (e) {
    e.preventDefault();
    G.clearErrors(upload);
    var f = upload.elements, file = f.file.files[0];
    if (!file) { G.showError(upload, { field: "file", message: "请选择要上传的文件" }); return; }
    if (file.size > cfg.maxUploadBytes) {
      G.showError(upload, { field: "file", message: "文件超过上传上限 " + Math.round(cfg.maxUploadBytes / 1048576) + " MB" }); return;
    }
    if (f.key.value && !/^[a-z][a-z0-9_]*$/.test(f.key.value)) {
      G.showError(upload, { field: "key", message: "图层标识用小写字母开头，只含小写字母、数字和下划线" }); return;
    }
    var body = new FormData();
    body.append("file", file);
    ["key", "title", "target", "crs", "map"].forEach(function (name) { if (f[name].value) { body.append(name, f[name].value); } });
    body.append("public", f.public.checked ? "true" : "false");
    var button = upload.querySelector("button[type=submit]");
    button.disabled = true;
    showJob({ state: "pending", rows_done: 0, rows_total: null, errors: [], report: {} });
    G.api("POST", "/api/v1/layers/import", body).then(function (answer) {
      follow(answer.url, f.key.value);
    }, function (err) {
      button.disabled = false;
      document.getElementById("job").hidden = true;
      G.showError(upload, err);
    });
  });

  function showJob(job) {
    var box = document.getElementById("job");
    box.hidden = false;
    var state = document.getElementById("job-state");
    state.textContent = STATES[job.state] || job.state;
    state.className = job.state;
    var bar = document.getElementById("job-progress");
    if (job.state === "succeeded") { bar.value = 1; }
    else if (job.rows_total) { bar.value = job.rows_done / job.rows_total; }
    else { bar.removeAttribute("value"); }
    document.getElementById("job-count").textContent = job.rows_total ? job.rows_done + " / " + job.rows_total + " 行" : "";
  }

  function follow(url, key) {
    var tick = function () {
      G.api("GET", url).then(function (job) {
        showJob(job);
        if (job.state === "succeeded" || job.state === "failed") { finished(job, key); }
        else { setTimeout(tick, 400); }
      }, function (err) { finished({ state: "failed", errors: [err], report: {} }, key); });
    };
    tick();
  }

  var READINGS = { wgs84: "WGS84", gcj02: "GCJ-02", bd09: "BD-09" };

  /* The offset check in words: the fit of each reading, and a warning when another fits better. */
  function offsetNotes(check) {
    if (!check || !check.fits || !check.evidence) { return []; }
    var fits = check.fits, best = null;
    var parts = Object.keys(READINGS).filter(function (k) { return typeof fits[k] === "number"; }).map(function (k) {
      if (best === null || fits[k] < fits[best]) { best = k; }
      return READINGS[k] + " " + Math.round(fits[k]) + " 米";
    });
    var out = [el("li", { text: "偏移检测（与本市边界、道路的中位距离，" + check.evidence + " 个要素）：" + parts.join(" · ") })];
    if (check.chosen !== check.declared && !check.kept) {
      out.push(el("li", { class: "warn", text: "坐标按 " + READINGS[check.chosen] + " 纠偏后导入（文件声明为 " + READINGS[check.declared] + "）" }));
    } else if (best && best !== check.declared && fits[check.declared] > 1.5 * fits[best]) {
      out.push(el("li", { class: "warn", text: "坐标疑似偏移：数据更符合 " + READINGS[best] + "，已按指定坐标系保留；如需纠偏请选“自动识别并纠偏”重新导入" }));
    }
    return out;
  }

  function finished(job, key) {
    upload.querySelector("button[type=submit]").disabled = false;
    var notes = document.getElementById("job-notes");
    notes.innerHTML = "";
    if (job.state === "failed") {
      var error = job.errors[0] || { message: "导入失败" };
      var field = ["crs", "file", "key", "map", "title", "target"].indexOf(error.field) >= 0 ? error.field : "";
      var hint = field === "crs" ? "坐标系有误或坐标疑似偏移，请选择正确的坐标系或“自动识别并纠偏”。" : "";
      G.showError(upload, { field: field, message: hint + error.message });
      return;
    }
    var r = job.report || {};
    notes.appendChild(el("li", { text: "写入 " + (r.rows_written !== undefined ? r.rows_written : "?") + " 个要素，坐标系 " + (r.crs || "—") + "，用时 " + (r.seconds || 0) + " 秒" }));
    offsetNotes(r.offset_check).forEach(function (n) { notes.appendChild(n); });
    (r.warnings || []).forEach(function (w) { notes.appendChild(el("li", { class: "warn", text: w })); });
    if (r.repaired) { notes.appendChild(el("li", { class: "warn", text: "修复了 " + r.repaired + " 个无效几何" })); }
    var newKey = r.key || r.layer || key;
    Promise.all([loadLayers(), reloadMap()]).then(function () {
      if (newKey && layers.some(function (l) { return l.key === newKey; })) { select(newKey); }
    });
  }

  /* ---- the map configuration (地图配置): the default view and theme of every map page ---- */
  var configForm = document.getElementById("map-config");

  function loadMapConfig() {
    return Promise.all([G.api("GET", "/api/v1/map-config"), G.api("GET", "/api/v1/themes")]).then(function (answers) {
      var c = answers[0], f = configForm.elements, select = f.default_theme;
      select.innerHTML = "";
      select.appendChild(el("option", { value: "", text: "基础底图（base）" }));
      (answers[1].themes || []).forEach(function (t) { if (t.key !== "base") { select.appendChild(el("option", { value: t.key, text: t.title })); } });
      f.title.value = c.title || "";
      if (c.center) { f.lon.value = c.center[0].toFixed(6); f.lat.value = c.center[1].toFixed(6); }
      f.zoom.value = c.zoom; f.min_zoom.value = c.min_zoom; f.max_zoom.value = c.max_zoom;
      select.value = c.default_theme && c.default_theme !== "base" ? c.default_theme : "";
    });
  }

  document.getElementById("use-view").addEventListener("click", function () {
    var centre = map.getCenter(), f = configForm.elements;
    f.lon.value = centre.lng.toFixed(6); f.lat.value = centre.lat.toFixed(6);
    f.zoom.value = Math.round(map.getZoom() * 2) / 2;
  });

  configForm.addEventListener("submit", function (e) {
    e.preventDefault();
    G.clearErrors(configForm);
    var f = configForm.elements, lon = parseFloat(f.lon.value), lat = parseFloat(f.lat.value);
    var body = { title: f.title.value, zoom: parseFloat(f.zoom.value), min_zoom: parseFloat(f.min_zoom.value),
      max_zoom: parseFloat(f.max_zoom.value), default_theme: f.default_theme.value || null };
    if (isNaN(lon) || isNaN(lat)) { G.showError(configForm, { field: "center", message: "请填写中心经纬度，或点“用当前地图视图”" }); return; }
    body.center = [lon, lat];
    if (body.min_zoom > body.max_zoom) { G.showError(configForm, { field: "min_zoom", message: "最小级别不能大于最大级别" }); return; }
    if (body.zoom < body.min_zoom || body.zoom > body.max_zoom) { G.showError(configForm, { field: "zoom", message: "默认级别应在最小与最大级别之间" }); return; }
    G.api("PUT", "/api/v1/map-config", body).then(function () { G.toast("地图配置已保存"); return loadMapConfig(); },
      function (err) { G.showError(configForm, err); });
  });

  document.getElementById("refresh-all").addEventListener("click", function () {
    G.api("POST", "/api/v1/layers/all/refresh").then(function () { G.toast("已刷新统计"); return loadLayers(); },
      function (err) { G.toast(err.message, true); });
  });

  G.makeMap(function (style) { return G.quiet(style); }).then(function (m) {
    map = m;
    return Promise.all([loadLayers(), loadMapConfig()]);
  });
})();
