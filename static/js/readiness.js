/* Readiness charts: the radar of the seven pillars and the overall trend lines. Figures come
 * from json_script elements; each canvas has a table with the same numbers beside it and
 * carries role="img" with a label. A pillar without evidence is a gap in the radar (null),
 * never a 0. */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") return;
  var reduce = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  var INK = "#212529";
  var BLUE = "#0b5394";

  function spec(canvas) {
    var source = document.getElementById(canvas.dataset.chartSource);
    return source ? JSON.parse(source.textContent) : null;
  }

  function radar(canvas) {
    var data = spec(canvas);
    if (!data) return;
    new window.Chart(canvas, {
      type: "radar",
      data: {
        labels: data.labels,
        datasets: [{
          label: "Score (0–100)",
          data: data.scores,
          spanGaps: false,
          borderColor: BLUE,
          backgroundColor: "rgba(11, 83, 148, 0.2)",
          pointBackgroundColor: BLUE
        }]
      },
      options: {
        animation: !reduce,
        maintainAspectRatio: false,
        scales: { r: { min: 0, max: 100, ticks: { stepSize: 20, color: INK, backdropColor: "transparent" }, pointLabels: { color: INK } } },
        plugins: { legend: { display: false } }
      }
    });
  }

  function line(canvas) {
    var data = spec(canvas);
    if (!data) return;
    new window.Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [{ label: "Overall score", data: data.overall, borderColor: BLUE, backgroundColor: BLUE, spanGaps: true, tension: 0 }]
      },
      options: {
        animation: !reduce,
        maintainAspectRatio: false,
        scales: { y: { min: 0, max: 100, ticks: { color: INK } }, x: { ticks: { color: INK } } },
        plugins: { legend: { labels: { color: INK } } }
      }
    });
  }

  document.querySelectorAll("canvas[data-chart='radar']").forEach(radar);
  document.querySelectorAll("canvas[data-chart='line']").forEach(line);
})();
