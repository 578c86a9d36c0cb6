/* The data-quality page (/quality): the monthly rows read and rejected per source,
   drawn with ECharts from the page's JSON blocks. A static file, as the
   Content-Security-Policy forbids inline scripts. */
(function () {
  "use strict";
  function data(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }
  function draw() {
    var t = data("q-trend"), w = data("q-words"), el = document.getElementById("quality-chart");
    if (!t || !w || !el || !window.echarts || el.dataset.drawn) { return; }
    var series = [], seen = {};
    Object.keys(t.sources).forEach(function (src) { var n = (w.names && w.names[src]) || src; seen[n] = (seen[n] || 0) + 1; });
    Object.keys(t.sources).sort().forEach(function (src) {
      // the source by its name in the page's language; its code beside a name two sources share
      var name = (w.names && w.names[src]) || src;
      if (seen[name] > 1) { name += " (" + src + ")"; }
      series.push({ name: name + " · " + w.read, type: "bar", stack: src, data: t.sources[src].read });
      series.push({ name: name + " · " + w.rejected, type: "line", data: t.sources[src].rejected });
    });
    window.echarts.init(el).setOption({ tooltip: { trigger: "axis" }, legend: { type: "scroll", top: 0 },
      grid: { containLabel: true, left: 10, right: 20, top: 40, bottom: 10 }, xAxis: { type: "category", data: t.months },
      yAxis: { type: "value", minInterval: 1 }, series: series });
    el.dataset.drawn = "1";
  }
  document.addEventListener("DOMContentLoaded", draw);
  window.addEventListener("resize", function () {
    var el = document.getElementById("quality-chart");
    if (el && window.echarts && window.echarts.getInstanceByDom(el)) { window.echarts.getInstanceByDom(el).resize(); }
  });
}());
