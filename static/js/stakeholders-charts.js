/* Survey results: one stacked horizontal bar per agree–disagree item, the share of each
   point of the scale. The figures come from the json_script element; the table under the
   chart gives the same numbers, and the canvas carries role="img" and a label. */
(function () {
  "use strict";
  var canvas = document.querySelector("canvas[data-chart-source='likert-data']");
  var source = document.getElementById("likert-data");
  if (!canvas || !source || typeof window.Chart === "undefined") return;
  var spec = JSON.parse(source.textContent);
  // Disagree to agree, each at least 3:1 against white (WCAG 1.4.11).
  var colours = ["#b91c1c", "#c2410c", "#4b5563", "#0b5394", "#12355b"];
  new window.Chart(canvas, {
    type: "bar",
    data: {
      labels: spec.labels,
      datasets: spec.datasets.map(function (d, i) {
        return { label: d.label, data: d.data, backgroundColor: colours[i % colours.length] };
      })
    },
    options: {
      indexAxis: "y",
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: { stacked: true, max: 100, ticks: { color: "#212529", callback: function (v) { return v + "%"; } } },
        y: { stacked: true, ticks: { color: "#212529" } }
      },
      plugins: {
        legend: { position: "bottom", labels: { color: "#212529" } },
        tooltip: {
          callbacks: {
            title: function (items) { return spec.titles[items[0].dataIndex]; },
            label: function (item) { return item.dataset.label + ": " + item.formattedValue + "%"; }
          }
        }
      }
    }
  });
})();
