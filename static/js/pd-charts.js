/* PD report charts. Figures come from the json_script element; every chart has a table
   with the same figures next to it, and the canvas carries role="img" and a label. */
(function () {
  "use strict";
  var source = document.getElementById("pd-chart-data");
  if (!source || !window.Chart) return;
  var data = JSON.parse(source.textContent);
  var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var palette = ["#0b5394", "#b45309", "#15803d", "#7e22ce", "#be123c", "#0f766e"];

  var months = document.getElementById("chart-months");
  if (months) {
    new window.Chart(months, {
      type: "bar",
      data: {
        labels: data.months.map(function (r) { return r[0]; }),
        datasets: [{ label: "Hours", data: data.months.map(function (r) { return r[1]; }), backgroundColor: "#0b5394" }]
      },
      options: { animation: !reduce, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } }
    });
  }
  var formats = document.getElementById("chart-formats");
  if (formats) {
    new window.Chart(formats, {
      type: "doughnut",
      data: {
        labels: data.formats.map(function (r) { return r[0]; }),
        datasets: [{ data: data.formats.map(function (r) { return r[1]; }), backgroundColor: palette }]
      },
      options: { animation: !reduce }
    });
  }
})();
