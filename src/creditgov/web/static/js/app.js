// CreditGov pages: htmx sends the CSRF token; charts read JSON from <script type="application/json">.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (e) {
    var m = document.querySelector('meta[name="csrf-token"]');
    if (m && m.content) { e.detail.headers["X-CSRF-Token"] = m.content; }
  });
  var COLOURS = { green: "#16a34a", yellow: "#eab308", red: "#dc2626" };
  function data(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }
  function chart(el) { return window.echarts.init(el, document.body.classList.contains("bigscreen") ? "dark" : null); }
  var renderers = {
    // Colour distribution per region: stacked bars.
    regions: function (el, d) {
      var names = d.regions.map(function (r) { return r.name; });
      var series = ["green", "yellow", "red"].map(function (c) {
        return { name: d.labels[c], type: "bar", stack: "c", itemStyle: { color: COLOURS[c] },
                 data: d.regions.map(function (r) { return r.colours[c] || 0; }) };
      });
      // The legend above the plot and the grid holding its (rotated) axis labels: they never overlap.
      chart(el).setOption({ tooltip: { trigger: "axis" }, legend: { top: 0, type: "scroll" },
        grid: { containLabel: true, left: 10, right: 10, top: 40, bottom: 10 },
        xAxis: { type: "category", data: names, axisLabel: { rotate: names.length > 6 ? 30 : 0 } },
        yAxis: { type: "value", minInterval: 1 }, series: series, animation: false });
    },
    // Grade distribution: a pie, the grades in the model's order (`order`: best first).
    grades: function (el, d) {
      chart(el).setOption({ tooltip: { trigger: "item" }, animation: false,
        series: [{ type: "pie", radius: ["32%", "62%"],
                   data: (d.order || Object.keys(d.grades)).map(function (g) { return { name: g, value: d.grades[g] }; }) }] });
    },
    // Grade counts across one model's runs (one model per chart: one grade scale).
    trend: function (el, d) {
      var grades = {};
      d.runs.forEach(function (r) { Object.keys(r.grades).forEach(function (g) { grades[g] = 1; }); });
      var labels = d.runs.map(function (r) { return "#" + r.run_id + " " + r.as_of; });
      chart(el).setOption({ tooltip: { trigger: "axis" }, legend: { top: 0, type: "scroll" },
        grid: { containLabel: true, left: 10, right: 20, top: 40, bottom: 10 },
        xAxis: { type: "category", data: labels, axisLabel: { rotate: labels.length > 3 ? 30 : 0 } },
        yAxis: { type: "value", minInterval: 1 },
        animation: false,
        series: (d.order || Object.keys(grades).sort()).map(function (g) {
          return { name: g, type: "line", data: d.runs.map(function (r) { return r.grades[g] || 0; }) };
        }) });
    },
    // Score waterfall: the model's base (full marks for a weighted model), the points each dimension lost or gained, the score.
    waterfall: function (el, d) {
      var names = [d.labels.base], base = [0], up = [d.base], down = [0], run = d.base;
      d.steps.forEach(function (s) {
        names.push(s.name);
        if (s.value >= 0) { base.push(run); up.push(s.value); down.push(0); run += s.value; }
        else { run += s.value; base.push(run); up.push(0); down.push(-s.value); }
      });
      names.push(d.labels.total); base.push(0); up.push(d.total); down.push(0);
      chart(el).setOption({ tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, animation: false,
        grid: { containLabel: true, left: 10, right: 10, top: 30, bottom: 10 },
        xAxis: { type: "category", data: names, axisLabel: { rotate: names.length > 6 ? 30 : 0 } },
        yAxis: { type: "value" },
        series: [{ type: "bar", stack: "w", itemStyle: { color: "transparent" }, data: base },
                 { name: "+", type: "bar", stack: "w", itemStyle: { color: "#16a34a" }, data: up,
                   label: { show: true, position: "top", formatter: function (p) { return p.value ? p.value.toFixed(1) : ""; } } },
                 { name: "-", type: "bar", stack: "w", itemStyle: { color: "#dc2626" }, data: down,
                   label: { show: true, position: "bottom", formatter: function (p) { return p.value ? "\u2212" + p.value.toFixed(1) : ""; } } }] });
    },
    // Regional analysis: one stacked bar per group (street, grid, industry, kind), one segment per category.
    distribution: function (el, d) {
      var names = d.rows.map(function (r) { return r.name; });
      var n = d.categories.length;
      var series = d.categories.map(function (c, i) {
        var colour = d.what === "colour" ? COLOURS[c] : (n > 1 ? "hsl(" + Math.round(120 - 120 * i / (n - 1)) + ",65%,45%)" : null);
        return { name: d.labels[c] || c, type: "bar", stack: "d", itemStyle: colour ? { color: colour } : {},
                 data: d.rows.map(function (r) { return r.counts[c] || 0; }) };
      });
      chart(el).setOption({ tooltip: { trigger: "axis" }, legend: { top: 0 },
        grid: { containLabel: true, left: 10, right: 10, top: 50, bottom: 10 },
        xAxis: { type: "category", data: names, axisLabel: { rotate: names.length > 6 ? 30 : 0 } },
        yAxis: { type: "value", name: d.unit, minInterval: 1 }, series: series, animation: false });
    },
    // Regional analysis: grade shares per published run (lines) and the mean score (second axis).
    shares: function (el, d) {
      var xs = d.runs.map(function (r) { return r.as_of; });
      var series = d.grades.map(function (g) {
        return { name: ((d.names && d.names[g]) || g) + " " + d.labels.share + " (%)", type: "line",
                 data: d.runs.map(function (r) { return Math.round(1000 * (r.shares[g] || 0)) / 10; }) };
      });
      series.push({ name: d.labels.mean, type: "line", yAxisIndex: 1, lineStyle: { type: "dashed" },
                    data: d.runs.map(function (r) { return r.mean_score; }) });
      chart(el).setOption({ tooltip: { trigger: "axis" }, legend: { top: 0 },
        grid: { containLabel: true, left: 10, right: 10, top: 70, bottom: 10 },
        xAxis: { type: "category", data: xs }, yAxis: [{ type: "value", max: 100 }, { type: "value" }],
        series: series, animation: false });
    },
    // Regional analysis: the riskiest grids, the risk index split into its weighted parts.
    risk: function (el, d) {
      var rows = d.rows.slice().reverse();
      var parts = ["arrears_share", "late_bill_share", "overdue_loan_share", "red_share"];
      chart(el).setOption({ tooltip: { trigger: "axis", axisPointer: { type: "shadow" } }, legend: { top: 0 },
        grid: { containLabel: true, left: 10, right: 20, top: 50, bottom: 30 }, animation: false,
        xAxis: { type: "value", name: d.labels.index, nameLocation: "middle", nameGap: 25, max: 100 },
        yAxis: { type: "category", data: rows.map(function (r) { return r.street + " " + r.name; }) },
        series: parts.map(function (k) {
          return { name: d.labels[k], type: "bar", stack: "r",
                   data: rows.map(function (r) { return Math.round(10000 * d.weights[k] * Math.min(1, r[k])) / 100; }) };
        }) });
    }
  };
  function draw(root) {
    (root || document).querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      var d = data(el.dataset.source);
      if (d && window.echarts && renderers[el.dataset.chart]) { renderers[el.dataset.chart](el, d); el.dataset.drawn = "1"; }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(); });
  document.addEventListener("htmx:afterSettle", function (e) { draw(e.target); });
  window.addEventListener("resize", function () {
    document.querySelectorAll("[data-chart]").forEach(function (el) { var c = window.echarts.getInstanceByDom(el); if (c) { c.resize(); } });
  });
  // The big screen refreshes itself every minute.
  if (document.body.classList.contains("bigscreen")) { setTimeout(function () { location.reload(); }, 60000); }
})();
