/* Parking charts with the vendored ECharts: data comes from a json_script element, never inline code. */
(function () {
  "use strict";
  function data(el) {
    var node = document.getElementById(el.dataset.source);
    return node ? JSON.parse(node.textContent) : null;
  }
  var draw = {
    occupancy: function (chart, d) {
      chart.setOption({
        tooltip: { trigger: "axis" },
        legend: { data: ["平均在场车辆", "入场车辆"], bottom: 0 },
        grid: { left: 40, right: 50, top: 30, bottom: 50 },
        xAxis: { type: "category", data: d.hours, axisLabel: { interval: 2 } },
        yAxis: { type: "value", name: "辆", max: function (v) { return Math.max(v.max, d.capacity); } },
        series: [
          { name: "平均在场车辆", type: "bar", data: d.avg, itemStyle: { color: "#1565c0" },
            markLine: { symbol: "none", data: [{ yAxis: d.capacity, name: "泊位数" }], label: { formatter: "泊位 {c}" } } },
          { name: "入场车辆", type: "line", data: d.entries, smooth: false, itemStyle: { color: "#ef6c00" } }
        ]
      });
    },
    daily: function (chart, d) {
      chart.setOption({
        tooltip: { trigger: "axis" },
        legend: { data: ["周转率（次/泊位）", "收入（元）"], bottom: 0 },
        grid: { left: 40, right: 50, top: 30, bottom: 50 },
        xAxis: { type: "category", data: d.days, axisLabel: { interval: 4 } },
        yAxis: [{ type: "value", name: "次" }, { type: "value", name: "元", splitLine: { show: false } }],
        series: [
          { name: "周转率（次/泊位）", type: "line", data: d.turnover, itemStyle: { color: "#2e7d32" } },
          { name: "收入（元）", type: "bar", yAxisIndex: 1, data: d.revenue, itemStyle: { color: "#90caf9" } }
        ]
      });
    },
    bands: function (chart, d) {
      chart.setOption({
        tooltip: { trigger: "axis" },
        legend: { data: ["现行", "拟议"], bottom: 0 },
        grid: { left: 40, right: 20, top: 20, bottom: 50 },
        xAxis: { type: "category", data: d.bands },
        yAxis: { type: "value", name: "次" },
        series: [
          { name: "现行", type: "bar", data: d.current, itemStyle: { color: "#90a4ae" } },
          { name: "拟议", type: "bar", data: d.proposed, itemStyle: { color: "#1565c0" } }
        ]
      });
    }
  };
  function init() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var d = data(el), fn = draw[el.dataset.chart];
      if (!d || !fn) { return; }
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      fn(chart, d);
      el.dataset.ready = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
