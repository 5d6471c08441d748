/* The calm base map shared by the pages that draw their own things over the city (the
   dispatcher console, the inspector monitor): the server's style with boundaries as thin grey
   lines, roads as white lines on a soft casing, labels kept, and the busy layers (components,
   zones, grids) off until a page or the user switches them on. */
(function () {
  "use strict";
  var BOUNDARY = { districts: ["#7b8794", 2, [4, 2]], streets: ["#9aa5b1", 1.3, [3, 2]],
    communities: ["#cbd2d9", 0.8, [2, 2]] };

  /* Gives `style` calmed; `toggles` maps the switchable layer keys to their titles. */
  function calm(style, toggles) {
    var layers = [];
    toggles = toggles || {};
    style.layers.forEach(function (l) {
      var key = l.metadata && l.metadata["citygrid:layer"];
      l.layout = l.layout || {};
      l.paint = l.paint || {};
      if (l.type === "background") { l.paint["background-color"] = "#f4f5f0"; }
      else if (l.type === "fill" && key !== "components_hex") { l.layout.visibility = "none"; }
      else if (BOUNDARY[key] && l.type === "line") {
        l.paint["line-color"] = BOUNDARY[key][0]; l.paint["line-width"] = BOUNDARY[key][1];
        l.paint["line-dasharray"] = BOUNDARY[key][2];
        if (key === "communities") { l.minzoom = 14; }
      } else if (key === "roads" && l.type === "line") {
        var casing = JSON.parse(JSON.stringify(l));
        casing.id = l.id + "-casing";
        casing.paint["line-color"] = "#d3d7dc";
        casing.paint["line-width"] = ["interpolate", ["linear"], ["zoom"], 10, 1.6, 18, 9];
        layers.push(casing);
        l.paint["line-color"] = "#ffffff";
      } else if (key === "unit_grids" && l.type === "line") {
        l.paint["line-color"] = "#d9dcd3"; l.paint["line-width"] = 0.6; l.layout.visibility = "none";
      } else if (toggles[key] || (key && l.type !== "symbol")) { l.layout.visibility = "none"; }
      layers.push(l);
    });
    style.layers = layers;
    trimSources(style.sources, layers);
    return style;
  }

  /* The composite vector source names every layer in its tile URL (/tiles/a,b,c/{z}/{x}/{y}.mvt),
     so hidden layers would still be fetched: on the console's base at z12, the hidden unit
     grids were 84% of the tile bytes. Each composite source asks only for the source layers
     of its visible style layers; `showLayer` asks again when one is switched. */
  var composites = {};  /* source id -> {template, keys}: the URL as the server gave it */
  var KEYS_IN_URL = /\/tiles\/([^/]+)\/\{z\}/;

  function visibleKeys(layers, sourceId) {
    var keys = {};
    layers.forEach(function (l) {
      if (l.source === sourceId && l["source-layer"] && !(l.layout && l.layout.visibility === "none")) {
        keys[l["source-layer"]] = true;
      }
    });
    return keys;
  }

  function tilesFor(sourceId, layers) {
    var c = composites[sourceId], shown = visibleKeys(layers, sourceId);
    var keys = c.keys.filter(function (k) { return shown[k]; });
    if (!keys.length) { keys = c.keys.slice(0, 1); }  /* a source needs a URL; one small layer */
    return [c.template.replace(KEYS_IN_URL, "/tiles/" + keys.join(",") + "/{z}")];
  }

  function trimSources(sources, layers) {
    Object.keys(sources || {}).forEach(function (id) {
      var src = sources[id], match = src.type === "vector" && src.tiles && src.tiles.length === 1 &&
        KEYS_IN_URL.exec(src.tiles[0]);
      if (!match || match[1].indexOf(",") < 0) { return; }
      composites[id] = { template: src.tiles[0], keys: match[1].split(",") };
      src.tiles = tilesFor(id, layers);
      composites[id].current = src.tiles[0];
    });
  }

  /* Gives the font stack of the style's labels (served locally), for a page's own labels. */
  function labelFont(style) {
    var found = null;
    style.layers.forEach(function (l) { if (!found && l.layout && l.layout["text-font"]) { found = l.layout["text-font"]; } });
    return found || ["WenQuanYi Micro Hei Regular"];
  }

  /* Shows or hides every non-fill layer of the layer `key`. */
  function showLayer(map, key, on) {
    map.getStyle().layers.forEach(function (l) {
      if (l.metadata && l.metadata["citygrid:layer"] === key && l.type !== "fill") {
        map.setLayoutProperty(l.id, "visibility", on ? "visible" : "none");
      }
    });
    var layers = map.getStyle().layers;
    Object.keys(composites).forEach(function (id) {
      var source = map.getSource(id), tiles = tilesFor(id, layers);
      if (source && source.setTiles && composites[id].current !== tiles[0]) {
        composites[id].current = tiles[0];
        source.setTiles(tiles);
      }
    });
  }

  window.CityGridBase = { calm: calm, labelFont: labelFont, showLayer: showLayer,
    ideographs: "'WenQuanYi Micro Hei', 'Noto Sans CJK SC', sans-serif" };
})();
