// Draws every <canvas data-chart="id-of-json-script"> with Chart.js; the table beside each chart
// holds the same numbers, so a page without Chart.js (npm missing) still shows everything.
document.addEventListener("DOMContentLoaded", function () {
  if (typeof Chart === "undefined") { return; }
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
    canvas.chart = new Chart(canvas, {
      type: spec.type || "line",
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (s, i) {
          var colours = ["#3355dd", "#12805c", "#b54708", "#c0362c", "#7a5af8"];
          // A markers series (releases) shows points alone, on the line they annotate.
          return { label: s.label, data: s.values, borderColor: colours[i % 5], backgroundColor: colours[i % 5],
                   tension: 0.2, spanGaps: !s.markers, showLine: !s.markers,
                   pointStyle: s.markers ? "triangle" : "circle", pointRadius: s.markers ? 8 : 3 };
        }),
      },
      options: { responsive: true, animation: false, plugins: { legend: { display: spec.series.length > 1 } },
                 scales: { y: { beginAtZero: true } } },
    });
    canvas.dataset.drawn = "true";
  });
});
