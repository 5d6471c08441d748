/* CityGrid map page: MapLibre GL JS over our vector tiles, a layer list, themes, identify. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("map-config").textContent);
  var themeSelect = document.getElementById("theme");
  var variantSelect = document.getElementById("variant");
  var layerList = document.getElementById("layers");
  var statusLine = document.getElementById("status");
  var hidden = {};  // registry layer key -> true when switched off by the user

  function styleUrl(theme, variant) {
    return config.styleUrl.replace("{theme}", encodeURIComponent(theme)).replace("{variant}", variant);
  }

  config.themes.forEach(function (t) {
    var option = document.createElement("option");
    option.value = t.key;
    option.textContent = t.title;
    themeSelect.appendChild(option);
  });
  themeSelect.value = config.theme;
  variantSelect.value = config.variant;
  document.body.classList.toggle("dark", config.variant === "dark");

  var map = new maplibregl.Map({
    container: "map",
    style: styleUrl(config.theme, config.variant),
    center: config.center,
    zoom: config.zoom,
    minZoom: config.minZoom,
    maxZoom: config.maxZoom,
    localIdeographFontFamily: "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', sans-serif",
    attributionControl: { compact: false }
  });
  map.addControl(new maplibregl.NavigationControl(), "top-right");
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
  window.citygridMap = map;

  /* Registry layers in the current style: key -> {title, ids, colour, visible}. */
  function styleGroups() {
    var groups = {};
    map.getStyle().layers.forEach(function (l) {
      var key = l.metadata && l.metadata["citygrid:layer"];
      if (!key) { return; }
      var g = groups[key] || (groups[key] = { title: l.metadata["citygrid:title"], ids: [], colour: null,
        visible: false, identify: l.metadata["citygrid:identify"] !== false });
      g.ids.push(l.id);
      var paint = l.paint || {};
      var colour = paint["fill-color"] || paint["line-color"] || paint["circle-color"];
      if (!g.colour && typeof colour === "string") { g.colour = colour; }
      if (!l.layout || l.layout.visibility !== "none") { g.visible = true; }
    });
    return groups;
  }

  function setVisible(group, on) {
    group.ids.forEach(function (id) { map.setLayoutProperty(id, "visibility", on ? "visible" : "none"); });
  }

  function buildLayerList() {
    var groups = styleGroups();
    layerList.innerHTML = "";
    Object.keys(groups).forEach(function (key) {
      var g = groups[key];
      if (hidden[key] === true) { setVisible(g, false); g.visible = false; }
      if (hidden[key] === false) { setVisible(g, true); g.visible = true; }
      var li = document.createElement("li");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.checked = g.visible;
      box.dataset.layer = key;
      box.addEventListener("change", function () {
        hidden[key] = !box.checked;
        setVisible(g, box.checked);
      });
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = g.colour || "#999";
      var label = document.createElement("label");
      label.appendChild(box);
      label.appendChild(swatch);
      label.appendChild(document.createTextNode(g.title || key));
      li.appendChild(label);
      layerList.appendChild(li);
    });
  }

  map.on("style.load", buildLayerList);
  map.on("idle", function () { window.citygridIdle = true; });
  map.on("dataloading", function () { window.citygridIdle = false; });
  map.on("error", function (e) {
    statusLine.textContent = "加载失败: " + ((e.error && e.error.message) || "unknown");
  });

  function restyle() {
    document.body.classList.toggle("dark", variantSelect.value === "dark");
    map.setStyle(styleUrl(themeSelect.value, variantSelect.value));
  }
  themeSelect.addEventListener("change", restyle);
  variantSelect.addEventListener("change", restyle);

  function escapeText(value) {
    var div = document.createElement("div");
    div.textContent = value === null || value === undefined ? "" : String(value);
    return div.innerHTML;
  }

  function table(props) {
    var rows = Object.keys(props || {}).map(function (k) {
      var v = props[k];
      if (v !== null && typeof v === "object") { v = JSON.stringify(v); }
      return "<tr><td>" + escapeText(k) + "</td><td>" + escapeText(v) + "</td></tr>";
    });
    return "<table>" + rows.join("") + "</table>";
  }

  /* Identify results come as {results|features: [{layer, title?, properties}]} or a list. */
  function identifyHtml(body) {
    var items = Array.isArray(body) ? body : (body.results || body.features || body.layers || []);
    if (!items.length) { return "<p>此处无要素</p>"; }
    return items.slice(0, 10).map(function (item) {
      var title = item.title || item.layer_title || item.layer || (item.properties && item.properties.layer) || "";
      return "<h3>" + escapeText(title) + "</h3>" + table(item.properties || item.attributes || item);
    }).join("");
  }

  function renderedHtml(features) {
    if (!features.length) { return "<p>此处无要素</p>"; }
    return features.slice(0, 10).map(function (f) {
      return "<h3>" + escapeText(f.sourceLayer) + "</h3>" + table(f.properties);
    }).join("");
  }

  map.on("click", function (e) {
    var popup = new maplibregl.Popup({ maxWidth: "320px" }).setLngLat(e.lngLat)
      .setHTML("<div class='identify'>查询中…</div>").addTo(map);
    var groups = styleGroups();
    var layers = Object.keys(groups).filter(function (k) {
      return groups[k].identify && groups[k].visible && hidden[k] !== true;
    });
    var url = config.identifyUrl + "?lon=" + e.lngLat.lng.toFixed(7) + "&lat=" + e.lngLat.lat.toFixed(7) +
      "&zoom=" + map.getZoom().toFixed(2) + "&layers=" + encodeURIComponent(layers.join(","));
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (body) { popup.setHTML("<div class='identify'>" + identifyHtml(body) + "</div>"); })
      .catch(function () {
        // Without the identify service, show what the tiles under the cursor carry.
        var features = map.queryRenderedFeatures(e.point);
        popup.setHTML("<div class='identify'>" + renderedHtml(features) + "</div>");
      });
  });
})();
