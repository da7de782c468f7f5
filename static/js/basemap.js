/* The offline base map: the county's own town and village outlines and names, drawn in the browser from
   /registry/map/base.geojson (no tile server, no internet). Under it, tiles when the page names a tile
   URL (the county's MBTiles served by this site, or an intranet tile server). */
(function () {
  "use strict";
  function label(text, level) {
    var span = document.createElement("span");
    span.textContent = text; // names are text, never HTML
    return L.divIcon({ className: "base-label " + level, html: span.outerHTML, iconSize: null });
  }
  window.WanggeBasemap = {
    draw: function (map, el) {
      if (el.dataset.tiles) L.tileLayer(el.dataset.tiles, { maxZoom: 19 }).addTo(map);
      if (!el.dataset.base) return Promise.resolve(null);
      // Resolves to {outlines, towns, villages} (Leaflet layers) once drawn.
      map.createPane("base");
      // Above the figures (overlay pane 400) but non-interactive: outlines and names show through the colours.
      map.getPane("base").style.zIndex = 450;
      map.getPane("base").style.pointerEvents = "none";
      return fetch(el.dataset.base, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (geo) {
        var outlines = L.geoJSON(geo, {
          pane: "base",
          interactive: false,
          style: function (f) {
            return f.properties.level === "town"
              ? { color: "#546e7a", weight: 2, fill: false }
              : { color: "#90a4ae", weight: 1, dashArray: "3 3", fill: false };
          }
        }).addTo(map);
        var towns = L.layerGroup().addTo(map), villages = L.layerGroup();
        geo.features.forEach(function (f) {
          var p = f.properties;
          var marker = L.marker(p.label, { icon: label(p.name, p.level), interactive: false, keyboard: false });
          marker.areaName = p.name;
          (p.level === "town" ? towns : villages).addLayer(marker);
        });
        function byZoom() {
          // Village names only when they fit: at county scale 300 names would cover the map.
          if (map.getZoom() >= 12) villages.addTo(map); else villages.remove();
        }
        map.on("zoomend", byZoom);
        byZoom();
        el.dataset.baseFeatures = String(geo.features.length);
        return { outlines: outlines, towns: towns, villages: villages };
      });
    }
  };
})();
