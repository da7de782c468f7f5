/* Charts (ECharts) and the map (Leaflet) of the dashboard; data comes embedded in the page. */
(function () {
  "use strict";
  var holder = document.getElementById("dash-data");
  if (!holder) return;
  var data = JSON.parse(holder.textContent);
  var dark = document.body.classList.contains("screen");
  var text = dark ? "#e0f2f1" : "#37474f";
  var charts = [];
  // Area and category names come from imported workbooks and staff typing: every label built as HTML
  // (map labels, tooltips) escapes them, and the Content-Security-Policy would refuse a script anyway.
  function escapeHtml(value) {
    return String(value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return;
    var c = echarts.init(el, dark ? "dark" : null, { renderer: "canvas" });
    option.backgroundColor = "transparent";
    option.textStyle = { color: text };
    c.setOption(option);
    charts.push(c);
  }

  chart("chart-daily", {
    tooltip: { trigger: "axis" },
    legend: { data: ["受理", "办结"], textStyle: { color: text } },
    grid: { left: 40, right: 12, top: 30, bottom: 30 },
    xAxis: { type: "category", data: data.days.map(function (d) { return d.slice(5); }) },
    yAxis: { type: "value", minInterval: 1 },
    series: [
      { name: "受理", type: "bar", data: data.received, itemStyle: { color: "#42a5f5" } },
      { name: "办结", type: "line", data: data.resolved, itemStyle: { color: "#66bb6a" } }
    ]
  });
  chart("chart-weekly", {
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v + "%"; } },
    legend: { data: ["响应率", "按期办结率", "满意率"], textStyle: { color: text } },
    grid: { left: 40, right: 12, top: 30, bottom: 30 },
    xAxis: { type: "category", data: data.weeks.map(function (d) { return d.slice(5); }) },
    yAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
    series: [
      { name: "响应率", type: "line", data: data.week_response, connectNulls: true },
      { name: "按期办结率", type: "line", data: data.week_ontime, connectNulls: true },
      { name: "满意率", type: "line", data: data.week_satisfaction, connectNulls: true }
    ]
  });
  // Category names are "parent / child": the label shows the child and its share, the tooltip the whole
  // name. Labels sit at the chart's edges and wrap instead of running out of a narrow (phone) chart.
  function shortName(name) { var parts = String(name).split(" / "); return parts[parts.length - 1]; }
  chart("chart-categories", {
    tooltip: {
      trigger: "item",
      formatter: function (p) { return escapeHtml(p.name) + "：" + Number(p.value) + "（" + Math.round(p.percent) + "%）"; }
    },
    series: [{
      type: "pie",
      radius: ["28%", "52%"],
      data: data.categories,
      avoidLabelOverlap: true,
      minShowLabelAngle: 4,
      label: {
        color: text,
        formatter: function (p) { return shortName(p.name) + " " + Math.round(p.percent) + "%"; },
        alignTo: "edge",
        edgeDistance: 4,
        minMargin: 3,
        overflow: "break",
        lineHeight: 14,
        fontSize: 11
      },
      labelLine: { length: 6, length2: 6 },
      labelLayout: { hideOverlap: true }
    }]
  });
  var levelNames = { city: "市", town: "乡镇", village: "村(社区)", branch: "党支部", grid: "微网格", department: "部门" };
  chart("chart-climb", {
    tooltip: { trigger: "axis" },
    grid: { left: 70, right: 12, top: 10, bottom: 20 },
    xAxis: { type: "value", minInterval: 1 },
    yAxis: { type: "category", data: data.climb.map(function (c) { return levelNames[c.level] || c.level; }) },
    series: [{ type: "bar", data: data.climb.map(function (c) { return c.count; }), itemStyle: { color: "#ab47bc" } }]
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });

  var mapEl = document.getElementById("map");
  if (!mapEl || !window.L) return;
  var MAX_LABELS = 60; // beyond that the names cover the map: they show on hover or tap instead
  var map = L.map(mapEl, { attributionControl: false, zoomSnap: 0.25 });
  var base = window.WanggeBasemap ? window.WanggeBasemap.draw(map, mapEl) : Promise.resolve(null);
  function colour(p) {
    if (p.overdue && p.overdue * 5 >= Math.max(p.open, 1)) return "#e57373";
    if (p.overdue) return "#ffb74d";
    return p.open ? "#aed581" : "#81c784";
  }
  fetch(mapEl.dataset.url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (geo) {
    mapEl.dataset.features = String(geo.features.length);
    if (!geo.features.length) {
      // No figures to draw: the base layer (if any) still shows where the county is.
      base.then(function (b) {
        if (b && b.outlines.getLayers().length) { map.fitBounds(b.outlines.getBounds()); mapEl.dataset.ready = "1"; }
        else mapEl.textContent = "（暂无区域边界）";
      });
      return;
    }
    var labelled = geo.features.length <= MAX_LABELS;
    var layer = L.geoJSON(geo, {
      style: function (f) { return { color: "#455a64", weight: 1, fillColor: colour(f.properties), fillOpacity: 0.7 }; },
      onEachFeature: function (f, l) {
        var p = f.properties;
        // Each area carries its name (and its figures when it has open demands) on the map itself,
        // so nobody has to hover to know which town is which (hover does not exist on a phone).
        var label = '<span class="name">' + escapeHtml(p.name) + "</span>";
        var open = Number(p.open) || 0, overdue = Number(p.overdue) || 0;
        if (open) label += '<span class="figs">未办结 ' + open + (overdue ? " · 超时 " + overdue : "") + "</span>";
        l.bindTooltip(label, { permanent: labelled, direction: "center", className: "map-label", opacity: 1 });
        l.on("click", function () { if (String(p.url).charAt(0) === "/") window.location.href = p.url; });
      }
    }).addTo(map);
    map.fitBounds(layer.getBounds(), { padding: [8, 8] });
    // An area this map already names (with its figures) is not named a second time by the base layer.
    var named = {};
    geo.features.forEach(function (f) { named[f.properties.name] = true; });
    base.then(function (b) {
      if (!b) return;
      [b.towns, b.villages].forEach(function (group) {
        group.eachLayer(function (m) { if (named[m.areaName]) group.removeLayer(m); });
      });
    }).then(function () { mapEl.dataset.ready = "1"; });
  });
})();
