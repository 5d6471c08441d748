/* Shared by the GIS admin pages: the page's settings, JSON calls with the CSRF token, errors
   shown next to the field they name, the toast, and the map over the server's style. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("gis-config").textContent);
  document.getElementById("who").textContent = cfg.name;
  /* A failed promise is an error of the page, as a thrown exception is. */
  window.addEventListener("unhandledrejection", function (e) {
    setTimeout(function () { throw (e.reason instanceof Error ? e.reason : new Error(JSON.stringify(e.reason))); });
  });

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] === null || attrs[k] === undefined || attrs[k] === false) { return; }
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  /* Calls the API; resolves with the JSON answer, rejects with {status, code, message, field}. */
  function api(method, path, body) {
    var init = { method: method, credentials: "same-origin", headers: { "X-CSRFToken": cfg.csrfToken } };
    if (body instanceof FormData) { init.body = body; }
    else if (body !== undefined) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
    return fetch(path, init).then(function (r) {
      if (r.status === 204) { return null; }
      return r.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = { message: text.slice(0, 200) }; }
        if (!r.ok) {
          var err = (data && data.error) || data || {};
          return Promise.reject({ status: r.status, code: err.code, message: err.message || ("HTTP " + r.status), field: err.field || "" });
        }
        return data;
      });
    });
  }

  /* Shows `error` next to its field in `form` (or in the form's general slot). */
  function showError(form, error) {
    clearErrors(form);
    var field = error.field || "";
    var slot = form.querySelector('.error[data-for="' + field + '"]') || form.querySelector('.error[data-for=""]');
    if (slot) { slot.textContent = error.message; }
    var input = field && form.querySelector('[name="' + field + '"]');
    if (input) { input.setAttribute("aria-invalid", "true"); input.focus(); }
  }

  function clearErrors(form) {
    form.querySelectorAll(".error").forEach(function (e) { e.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach(function (e) { e.removeAttribute("aria-invalid"); });
  }

  var toastTimer = null;
  function toast(text, bad) {
    var box = document.getElementById("toast");
    box.textContent = text;
    box.className = "show" + (bad ? " bad" : "");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.className = ""; }, 3500);
  }

  /* Gives a promise of the map over the server's style; `adjust(style)` may change it first. */
  function makeMap(adjust) {
    return fetch(cfg.styleUrl, { credentials: "same-origin" }).then(function (r) { return r.json(); })
      .then(function (style) {
        if (adjust) { style = adjust(style) || style; }
        var map = new maplibregl.Map({ container: "map", style: style, center: cfg.center, zoom: cfg.zoom,
          localIdeographFontFamily: "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', sans-serif" });
        map.addControl(new maplibregl.NavigationControl(), "top-right");
        map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
        window.gisMap = map;
        map.on("idle", function () { window.gisIdle = true; });
        map.on("dataloading", function () { window.gisIdle = false; });
        return new Promise(function (resolve) { map.on("load", function () { resolve(map); }); });
      });
  }

  /* Hides the busy layers of the base (components, heat bins) that a GIS admin page does not need. */
  function quiet(style, keep) {
    style.layers.forEach(function (l) {
      var key = l.metadata && l.metadata["citygrid:layer"];
      if (!key || (keep && keep[key])) { return; }
      if (key.indexOf("components") === 0 || /_hex$/.test(key) || key === "timing_zones") {
        l.layout = l.layout || {}; l.layout.visibility = "none";
      }
    });
    return style;
  }

  window.GisAdmin = { cfg: cfg, el: el, api: api, showError: showError, clearErrors: clearErrors,
    toast: toast, makeMap: makeMap, quiet: quiet };
})();
