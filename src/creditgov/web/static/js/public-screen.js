/* The public big screen (/public/screen): draws its charts from the page's JSON blocks
   with ECharts. A static file, as the Content-Security-Policy forbids inline scripts. */
(function () {
  "use strict";
  function data(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }
  var renderers = {
    bands: function (el, d, w) {
      var colours = { excellent: "#16a34a", good: "#65a30d", fair: "#eab308", poor: "#dc2626" };
      return { tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 40, right: 10, bottom: 60 },
        xAxis: { type: "category", data: d.bands.streets, axisLabel: { rotate: 30 } }, yAxis: { type: "value" },
        series: d.bands.series.map(function (s) {
          return { name: w.band_names[s.band] || s.band, type: "bar", stack: "b", data: s.data,
                   itemStyle: { color: colours[s.band] } };
        }) };
    },
    merchants: function (el, d, w) {
      return { tooltip: {}, grid: { left: 40, right: 10, bottom: 60 },
        xAxis: { type: "category", data: d.merchants.streets, axisLabel: { rotate: 30 } }, yAxis: { type: "value", minInterval: 1 },
        series: [{ name: w.merchants, type: "bar", data: d.merchants.data, itemStyle: { color: "#f59e0b" } }] };
    },
    redemptions: function (el, d, w) {
      return { tooltip: { trigger: "axis" }, legend: { top: 0 }, grid: { left: 50, right: 50, bottom: 40 },
        xAxis: { type: "category", data: d.redemptions.months },
        yAxis: [{ type: "value", minInterval: 1 }, { type: "value" }],
        series: [{ name: w.count, type: "bar", data: d.redemptions.count },
                 { name: w.points, type: "line", yAxisIndex: 1, data: d.redemptions.points }] };
    }
  };
  function draw() {
    var d = data("p-screen"), w = data("p-words");
    if (!d || !w || !window.echarts) { return; }
    document.querySelectorAll("[data-pchart]").forEach(function (el) {
      var make = renderers[el.dataset.pchart];
      if (!make || el.dataset.drawn) { return; }
      window.echarts.init(el, "dark").setOption(make(el, d, w));
      el.dataset.drawn = "1";
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-pchart]").forEach(function (el) {
      var c = window.echarts && window.echarts.getInstanceByDom(el); if (c) { c.resize(); }
    });
  });
})();
