/* The boundary import preview: the file's polygons on the county's own base layer (no tile server). */
(function () {
  "use strict";
  var el = document.getElementById("boundary-map");
  var data = document.getElementById("boundary-preview");
  if (!el || !data || !window.L) return;
  var geo = JSON.parse(data.textContent);
  var map = L.map(el, { attributionControl: false });
  if (window.WanggeBasemap) window.WanggeBasemap.draw(map, el);
  var colours = { town: "#1565c0", village: "#2e7d32", grid: "#ef6c00" };
  var layer = L.geoJSON(geo, {
    style: function (f) { return { color: colours[f.properties.level] || "#6a1b9a", weight: f.properties.level === "grid" ? 1 : 2, fillOpacity: 0.08 }; },
    onEachFeature: function (f, l) { l.bindTooltip(f.properties.code + " " + f.properties.name); }
  }).addTo(map);
  if (geo.features.length) map.fitBounds(layer.getBounds(), { padding: [8, 8] });
  else map.setView([28.15, 113.63], 9);
  el.dataset.features = String(geo.features.length);
  el.dataset.ready = "1";
})();
