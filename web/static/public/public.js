/* The public service page (/public, 市民服务): the city's public cases on a calm map, nearby
   convenience points, a report with photos after signing in by phone, and "my cases".
   Reads only the public API (/api/v1/public/…, /open311/v2/services.json); the citizen's token
   is kept in localStorage and sent as X-Citizen-Token, never as a cookie. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("public-config").textContent);
  var TOKEN_KEY = "citygrid.citizen";
  var KIND_COLOURS = { toilet: "#2f7ebc", parking: "#5b6abf", market: "#a16207", park: "#3f9a5a",
    service_hall: "#8b5cb8", bicycle: "#0f9aa8" };
  var KIND_MARKS = { toilet: "厕", parking: "P", market: "市", park: "园", service_hall: "政", bicycle: "车" };
  var EMPTY = { type: "FeatureCollection", features: [] };
  var map = null, picked = null, marker = null, picking = false, services = [];

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }
  function token() { return localStorage.getItem(TOKEN_KEY) || ""; }
  function call(path, options) {
    options = options || {};
    options.headers = options.headers || {};
    if (token()) { options.headers["X-Citizen-Token"] = token(); }
    return fetch(path, options).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (body) {
        if (r.status === 401) { localStorage.removeItem(TOKEN_KEY); renderSignIns(); }
        if (!r.ok) {
          var message = (body.error && body.error.message) || ("请求失败（" + r.status + "）");
          throw new Error(message);
        }
        return body;
      });
    });
  }
  function when(text) {
    if (!text) { return ""; }
    var d = new Date(text);
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" +
      String(d.getDate()).padStart(2, "0") + " " + String(d.getHours()).padStart(2, "0") + ":" +
      String(d.getMinutes()).padStart(2, "0");
  }
  function metres(m) { return m >= 1000 ? (m / 1000).toFixed(1) + " 公里" : Math.round(m) + " 米"; }

  /* --- tabs ------------------------------------------------------------------------------- */
  function showTab(name) {
    $all("#tabs button").forEach(function (b) {
      var on = b.getAttribute("data-tab") === name;
      b.classList.toggle("active", on);
      if (on) { b.setAttribute("aria-current", "page"); } else { b.removeAttribute("aria-current"); }
    });
    $all(".tab").forEach(function (t) { t.classList.toggle("active", t.id === "tab-" + name); });
    document.body.setAttribute("data-tab", name);
    setPicking(false);
    if (name === "mine") { loadMine(); }
    if (name === "report" && map && !picked) { setPlace(map.getCenter().lng, map.getCenter().lat, "地图中心"); }
    if (map) { setTimeout(function () { map.resize(); }, 50); }
  }
  $all("#tabs button").forEach(function (b) {
    b.addEventListener("click", function () { showTab(b.getAttribute("data-tab")); });
  });

  /* --- the map ------------------------------------------------------------------------------ */
  function caseTiles() {
    var open = $("#show-open").checked, closed = $("#show-closed").checked;
    var status = open && !closed ? "?status=open" : (!open && closed ? "?status=closed" : "");
    return [location.origin + "/tiles/public/{z}/{x}/{y}.mvt" + status];
  }

  fetch(cfg.styleUrl).then(function (r) { return r.json(); }).then(function (style) {
    style = CityGridBase.calm(style);
    var font = CityGridBase.labelFont(style);
    map = new maplibregl.Map({ container: "map", style: style, center: cfg.center, zoom: cfg.zoom,
      localIdeographFontFamily: CityGridBase.ideographs, attributionControl: false,
      dragRotate: false, pitchWithRotate: false });
    map.touchZoomRotate.disableRotation();
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-left");
    window.publicMap = map;
    map.on("load", function () {
      map.addSource("cases", { type: "vector", tiles: caseTiles(), minzoom: 0, maxzoom: 20 });
      map.addLayer({ id: "case-clusters", type: "circle", source: "cases", "source-layer": "public_cases",
        filter: ["has", "point_count"],
        paint: { "circle-color": ["case", [">", ["get", "open"], 0], "#e4572e", "#7d8fa6"],
          "circle-opacity": 0.85, "circle-stroke-color": "#fff", "circle-stroke-width": 2,
          "circle-radius": ["interpolate", ["linear"], ["get", "point_count"], 1, 11, 50, 18, 500, 26] } });
      map.addLayer({ id: "case-cluster-count", type: "symbol", source: "cases", "source-layer": "public_cases",
        filter: ["has", "point_count"],
        layout: { "text-field": ["to-string", ["get", "point_count"]], "text-font": font, "text-size": 12,
          "text-allow-overlap": true },
        paint: { "text-color": "#fff" } });
      map.addLayer({ id: "case-points", type: "circle", source: "cases", "source-layer": "public_cases",
        filter: ["!", ["has", "point_count"]],
        paint: { "circle-color": ["match", ["get", "status"], "open", "#e4572e", "#7d8fa6"],
          "circle-radius": 7, "circle-stroke-color": "#fff", "circle-stroke-width": 2 } });
      map.addLayer({ id: "case-labels", type: "symbol", source: "cases", "source-layer": "public_cases",
        filter: ["!", ["has", "point_count"]], minzoom: 16,
        layout: { "text-field": ["get", "category_name"], "text-font": font, "text-size": 11,
          "text-offset": [0, 1.3], "text-anchor": "top", "text-optional": true },
        paint: { "text-color": "#5a4636", "text-halo-color": "#fff", "text-halo-width": 1.5 } });

      map.addSource("points", { type: "geojson", data: EMPTY });
      /* Convenience points: white discs ringed and marked in their kind's colour (the cases are
         the filled dots), from the zoom where a street can be told apart. */
      map.addLayer({ id: "point-dots", type: "circle", source: "points", minzoom: 14,
        paint: { "circle-color": "#fff", "circle-radius": 9, "circle-stroke-color": ["get", "colour"],
          "circle-stroke-width": 2.5 } });
      map.addLayer({ id: "point-marks", type: "symbol", source: "points", minzoom: 14,
        layout: { "text-field": ["get", "mark"], "text-font": font, "text-size": 11, "text-allow-overlap": true },
        paint: { "text-color": ["get", "colour"] } });
      map.addLayer({ id: "point-names", type: "symbol", source: "points", minzoom: 16,
        layout: { "text-field": ["get", "name"], "text-font": font, "text-size": 11,
          "text-offset": [0, 1.4], "text-anchor": "top", "text-optional": true },
        paint: { "text-color": "#33415c", "text-halo-color": "#fff", "text-halo-width": 1.5 } });

      ["case-points", "case-clusters", "point-dots"].forEach(function (id) {
        map.on("mouseenter", id, function () { map.getCanvas().style.cursor = "pointer"; });
        map.on("mouseleave", id, function () { map.getCanvas().style.cursor = ""; });
      });
      map.on("click", onMapClick);
      map.on("moveend", debounce(loadNearby, 300));
      loadNearby();
    });
  });

  function onMapClick(e) {
    if (picking) { setPlace(e.lngLat.lng, e.lngLat.lat, "已选位置"); setPicking(false); return; }
    var hit = map.queryRenderedFeatures(e.point, { layers: ["case-points", "case-clusters", "point-dots"] })[0];
    if (!hit) { return; }
    if (hit.layer.id === "case-clusters") {
      map.easeTo({ center: hit.geometry.coordinates, zoom: map.getZoom() + 2 });
    } else if (hit.layer.id === "case-points") {
      showCase(hit.properties.number);
    } else {
      var item = $("#near-list li[data-id='" + hit.properties.id + "']");
      if (item) { item.scrollIntoView({ block: "nearest" }); item.classList.add("flash"); setTimeout(function () { item.classList.remove("flash"); }, 1200); }
    }
  }

  ["#show-open", "#show-closed"].forEach(function (sel) {
    $(sel).addEventListener("change", function () {
      if (map && map.getSource("cases")) { map.getSource("cases").setTiles(caseTiles()); }
    });
  });

  function debounce(fn, ms) {
    var t = null;
    return function () { clearTimeout(t); t = setTimeout(fn, ms); };
  }

  /* --- nearby convenience points ---------------------------------------------------------- */
  function loadNearby() {
    if (!map) { return; }
    var kinds = $all("#kinds input:checked").map(function (i) { return i.value; });
    var c = map.getCenter();
    if (!kinds.length) { render([]); return; }
    var query = "?lon=" + c.lng.toFixed(6) + "&lat=" + c.lat.toFixed(6) + "&radius=" + $("#radius").value +
      "&kinds=" + kinds.join(",") + "&limit=60";
    call("/api/v1/public/nearby" + query).then(function (body) { render(body.points); })
      .catch(function (err) { $("#near-note").textContent = err.message; });
    function render(points) {
      map.getSource("points").setData({ type: "FeatureCollection", features: points.map(function (p) {
        return { type: "Feature", geometry: { type: "Point", coordinates: [p.lon, p.lat] },
          properties: { id: p.id, name: p.name, mark: KIND_MARKS[p.kind] || "·", colour: KIND_COLOURS[p.kind] || "#666" } };
      }) });
      $("#near-note").textContent = points.length ? "地图中心 " + metres(+$("#radius").value) + " 内最近的 " + points.length + " 处"
        : "范围内没有所选类别的设施";
      var list = $("#near-list");
      list.textContent = "";
      points.slice(0, 30).forEach(function (p) {
        var li = el("li", { "data-id": String(p.id), tabindex: "0" }, [
          el("i", { "class": "chip " + p.kind, text: KIND_MARKS[p.kind] || "·" }),
          el("div", {}, [
            el("strong", { text: p.name }),
            el("span", { "class": "sub", text: p.kind_name + " · " + metres(p.metres) + (p.opening_hours ? " · " + p.opening_hours : "") }),
            el("span", { "class": "sub", text: p.address + (p.contact ? " · 电话 " + p.contact : "") })
          ]),
          p.photo_url ? el("img", { "class": "thumb", src: p.photo_url, alt: p.name, loading: "lazy" }) : null
        ]);
        var fly = function () { map.easeTo({ center: [p.lon, p.lat], zoom: Math.max(map.getZoom(), 16) }); };
        li.addEventListener("click", fly);
        li.addEventListener("keydown", function (e) { if (e.key === "Enter") { fly(); } });
        list.appendChild(li);
      });
    }
  }
  $("#radius").addEventListener("change", loadNearby);
  $all("#kinds input").forEach(function (i) { i.addEventListener("change", loadNearby); });

  /* --- one public case --------------------------------------------------------------------- */
  function photoRow(title, urls) {
    if (!urls.length) { return null; }
    return el("div", { "class": "photos" }, [el("span", { "class": "sub", text: title })].concat(
      urls.map(function (u) { return el("a", { href: u, target: "_blank", rel: "noopener" }, [el("img", { src: u, alt: title })]); })));
  }
  function history(steps) {
    return el("ol", { "class": "history" }, steps.map(function (h) {
      return el("li", {}, [el("span", { "class": "sub", text: when(h.at) }), el("b", { text: h.step }),
        h.opinion ? el("span", { text: "：" + h.opinion }) : null]);
    }));
  }
  function caseBody(c) {
    return [
      el("div", { "class": "card-head" }, [
        el("span", { "class": "badge " + c.status, text: c.state_name }),
        el("strong", { text: c.category }),
        el("span", { "class": "sub", text: "编号 " + c.number })
      ]),
      el("p", { text: c.description || "（描述已隐去）" }),
      c.address ? el("p", { "class": "sub", text: "地址：" + c.address }) : null,
      c.agency ? el("p", { "class": "sub", text: "处置部门：" + c.agency }) : null,
      c.status_notes ? el("p", { "class": "notes", text: "答复：" + c.status_notes }) : null,
      photoRow("处置前", c.before),
      photoRow("处置后", c.after),
      history(c.history || [])
    ];
  }
  function showCase(number) {
    call("/api/v1/public/cases/" + encodeURIComponent(number)).then(function (c) {
      var card = $("#case-card");
      card.textContent = "";
      var close = el("button", { type: "button", "class": "small close", text: "关闭", "aria-label": "关闭案件详情" });
      close.addEventListener("click", function () { card.hidden = true; });
      [close].concat(caseBody(c)).forEach(function (n) { if (n) { card.appendChild(n); } });
      card.hidden = false;
      showTab("map");
      card.scrollIntoView({ block: "start" });
      close.focus();
    }).catch(function (err) { $("#near-note").textContent = err.message; });
  }

  /* --- signing in ---------------------------------------------------------------------------- */
  function renderSignIns() {
    var signedIn = !!token();
    $all(".signin-slot").forEach(function (slot) {
      slot.textContent = "";
      if (signedIn) {
        var out = el("button", { type: "button", "class": "small", text: "退出登录" });
        out.addEventListener("click", function () { localStorage.removeItem(TOKEN_KEY); renderSignIns(); });
        slot.appendChild(el("p", { "class": "who" }, [el("span", { text: "已登录 " + (localStorage.getItem(TOKEN_KEY + ".phone") || "") + " " }), out]));
        return;
      }
      var form = document.importNode($("#signin-template").content, true).firstElementChild;
      slot.appendChild(form);
      var note = $(".note", form);
      $(".send-code", form).addEventListener("click", function () {
        call("/api/v1/public/citizens/code", { method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ phone: form.phone.value }) })
          .then(function () { note.textContent = "验证码已发送，请查看短信"; form.code.focus(); })
          .catch(function (err) { note.textContent = err.message; });
      });
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        call("/api/v1/public/citizens/session", { method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ phone: form.phone.value, code: form.code.value }) })
          .then(function (body) {
            localStorage.setItem(TOKEN_KEY, body.token);
            localStorage.setItem(TOKEN_KEY + ".phone", body.phone.slice(0, 3) + "****" + body.phone.slice(-4));
            renderSignIns();
            if (document.body.getAttribute("data-tab") === "mine") { loadMine(); }
          })
          .catch(function (err) { note.textContent = err.message; });
      });
    });
    $("#report-form").hidden = !signedIn;
  }

  /* --- reporting ------------------------------------------------------------------------------ */
  function setPlace(lon, lat, label) {
    picked = { lon: lon, lat: lat };
    $("#where-text").textContent = "位置：" + label + "（" + lon.toFixed(5) + ", " + lat.toFixed(5) + "）";
    if (!map) { return; }
    if (!marker) { marker = new maplibregl.Marker({ color: "#c0392b" }); }
    marker.setLngLat([lon, lat]).addTo(map);
  }
  function setPicking(on) {
    picking = on;
    $("#pick-hint").hidden = !on;
    if (map) { map.getCanvas().style.cursor = on ? "crosshair" : ""; }
  }
  $("#pick").addEventListener("click", function () { setPicking(true); });

  fetch("/open311/v2/services.json").then(function (r) { return r.json(); }).then(function (list) {
    services = list;
    var select = $("#report-form select[name='service_code']");
    var groups = {};
    list.forEach(function (s) {
      var key = (s.service_code[0] === "C" ? "部件·" : "事件·") + s.group;
      if (!groups[key]) { groups[key] = el("optgroup", { label: key }); select.appendChild(groups[key]); }
      groups[key].appendChild(el("option", { value: s.service_code, text: s.service_name }));
    });
    var common = list.filter(function (s) { return s.service_code === "E0102"; })[0];
    if (common) { select.value = common.service_code; }
  });

  $("#report-form input[name='media']").addEventListener("change", function (e) {
    var preview = $("#photo-preview");
    preview.textContent = "";
    $("#photo-count").textContent = e.target.files.length ? "已选 " + e.target.files.length + " 张" : "";
    Array.prototype.slice.call(e.target.files, 0, 9).forEach(function (f) {
      preview.appendChild(el("img", { src: URL.createObjectURL(f), alt: "待上传照片" }));
    });
  });

  $("#report-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var form = e.target, note = $("#report-note");
    var data = new FormData();
    data.append("service_code", form.service_code.value);
    data.append("description", form.description.value);
    data.append("report_type", form.querySelector("input[name='report_type']:checked").value);
    data.append("feedback", form.feedback.value);
    if (form.hide_name.checked) { data.append("hide_name", "true"); }
    if (!form.no_place.checked && picked) {
      data.append("lat", picked.lat.toFixed(7));
      data.append("long", picked.lon.toFixed(7));
    }
    Array.prototype.forEach.call(form.media.files, function (f) { data.append("media", f); });
    note.textContent = "正在提交…";
    form.querySelector("button[type='submit']").disabled = true;
    call("/api/v1/public/reports", { method: "POST", body: data }).then(function (c) {
      note.textContent = "已提交，编号 " + c.number + "。可在“我的案件”查看办理进度。";
      form.description.value = "";
      form.media.value = "";
      picked = null;
      if (marker) { marker.remove(); }
      $("#where-text").textContent = "位置：地图中心";
      $("#photo-preview").textContent = "";
      if (map && map.getSource("cases")) { map.getSource("cases").setTiles(caseTiles()); }
    }).catch(function (err) { note.textContent = "未能提交：" + err.message; })
      .then(function () { form.querySelector("button[type='submit']").disabled = false; });
  });

  /* --- my cases ---------------------------------------------------------------------------- */
  function stars(c) {
    var box = el("div", { "class": "rating" });
    if (c.rating) {
      box.appendChild(el("span", { text: "我的评价：" + "★★★★★".slice(0, c.rating.stars) + "☆☆☆☆☆".slice(0, 5 - c.rating.stars) +
        (c.rating.comment ? " " + c.rating.comment : "") }));
      return box;
    }
    var form = el("form", { "class": "rate" });
    var select = el("select", { name: "stars", "aria-label": "满意度" }, [5, 4, 3, 2, 1].map(function (n) {
      return el("option", { value: String(n), text: "★★★★★".slice(0, n) + " " + ["", "很不满意", "不满意", "一般", "满意", "很满意"][n] });
    }));
    var comment = el("input", { name: "comment", placeholder: "说说您的评价（可选）", maxlength: "1000" });
    form.appendChild(el("label", { text: "评价 " }, [select]));
    form.appendChild(comment);
    form.appendChild(el("button", { type: "submit", "class": "small", text: "提交评价" }));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      call("/api/v1/public/my/cases/" + c.number + "/rating", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ stars: +select.value, comment: comment.value }) })
        .then(loadMine).catch(function (err) { $("#mine-note").textContent = err.message; });
    });
    box.appendChild(form);
    return box;
  }
  function reopen(c) {
    if (!c.closed_at || (Date.now() - new Date(c.closed_at)) > cfg.reopenDays * 86400000) { return null; }
    var form = el("form", { "class": "reopen" });
    var reason = el("input", { name: "reason", placeholder: "问题仍未解决？请说明情况", maxlength: "2000", required: "required",
      "aria-label": "申请重新处理的理由" });
    form.appendChild(reason);
    form.appendChild(el("button", { type: "submit", "class": "small", text: "申请重新处理" }));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      call("/api/v1/public/my/cases/" + c.number + "/reopen", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ reason: reason.value }) })
        .then(function (made) { loadMine(); $("#mine-note").textContent = "已重新提交，新编号 " + made.number; })
        .catch(function (err) { $("#mine-note").textContent = err.message; });
    });
    return form;
  }
  function loadMine() {
    var list = $("#mine-list"), note = $("#mine-note");
    if (!token()) { list.textContent = ""; note.textContent = ""; return; }
    note.textContent = "正在加载…";
    call("/api/v1/public/my/cases").then(function (body) {
      list.textContent = "";
      note.textContent = body.cases.length ? "共 " + body.cases.length + " 件" : "您还没有反映过问题";
      body.cases.forEach(function (c) {
        var li = el("li", { "class": "card", "data-number": c.number }, caseBody(c));
        if (c.status === "closed" && c.state_name === "已结案") { li.appendChild(stars(c)); }
        var again = c.status === "closed" ? reopen(c) : null;
        if (again) { li.appendChild(again); }
        if (c.lon !== null) {
          var show = el("button", { type: "button", "class": "small link", text: "在地图上查看" });
          show.addEventListener("click", function () { showTab("map"); map.easeTo({ center: [c.lon, c.lat], zoom: 17 }); });
          li.appendChild(show);
        }
        list.appendChild(li);
      });
    }).catch(function (err) { note.textContent = err.message; });
  }
  $("#mine-reload").addEventListener("click", loadMine);

  renderSignIns();
  document.body.setAttribute("data-tab", "map");
})();
