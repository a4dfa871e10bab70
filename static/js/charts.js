/* Draws every <canvas data-chart-source="ID"> from the JSON in <script id="ID"> (written by
 * Django's json_script). Each chart has a table or text beside it with the same numbers, so
 * the canvas is only a picture of them (role="img" with an aria-label). */
(function () {
  "use strict";

  // Colours with at least 3:1 contrast against white (WCAG 1.4.11 for graphics).
  var PALETTE = ["#0b5394", "#b45309", "#2f7d32", "#b91c1c", "#6b21a8", "#4b5563"];

  function draw(canvas) {
    var source = document.getElementById(canvas.dataset.chartSource);
    if (!source || typeof window.Chart === "undefined") return;
    var spec = JSON.parse(source.textContent);
    var doughnut = spec.type === "doughnut";
    var datasets = spec.datasets.map(function (dataset, i) {
      var colour = doughnut ? spec.labels.map(function (_l, j) { return PALETTE[j % PALETTE.length]; })
                            : PALETTE[i % PALETTE.length];
      return {
        label: dataset.label,
        data: dataset.data,
        backgroundColor: colour,
        borderColor: doughnut ? "#ffffff" : colour,
        borderWidth: doughnut ? 2 : 0
      };
    });
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { position: "bottom", labels: { color: "#212529" } } }
    };
    if (!doughnut) {
      options.scales = {
        x: { ticks: { color: "#212529", autoSkip: false, maxRotation: 60 } },
        y: { beginAtZero: true, ticks: { color: "#212529", precision: 0 } }
      };
    }
    new window.Chart(canvas, { type: spec.type, data: { labels: spec.labels, datasets: datasets }, options: options });
  }

  document.querySelectorAll("canvas[data-chart-source]").forEach(draw);
})();
