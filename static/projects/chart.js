/* A project's checked cumulative figure against the even plan, with the vendored ECharts; data from json_script. */
(function () {
  "use strict";
  function init() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart=progress]").forEach(function (el) {
      var node = document.getElementById(el.dataset.source);
      if (!node) { return; }
      var d = JSON.parse(node.textContent);
      var achieved = d.dates.map(function (day, i) { return [day, d.achieved[i]]; });
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption({
        tooltip: { trigger: "axis" },
        legend: { data: ["核定累计完成", "均衡计划"], bottom: 0 },
        grid: { left: 50, right: 30, top: 30, bottom: 50 },
        xAxis: { type: "time" },
        yAxis: { type: "value", name: d.unit, max: function (v) { return Math.max(v.max, d.target); } },
        series: [
          { name: "核定累计完成", type: "line", step: "end", data: achieved, itemStyle: { color: "#1565c0" },
            markLine: { symbol: "none", data: [{ yAxis: d.target }], label: { formatter: "目标 {c}", position: "insideEndTop" } } },
          { name: "均衡计划", type: "line", data: d.plan, lineStyle: { type: "dashed" }, itemStyle: { color: "#90a4ae" }, symbol: "none" }
        ]
      });
      el.dataset.ready = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
