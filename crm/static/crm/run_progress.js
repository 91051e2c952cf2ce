// Polls the run's API every two seconds while it is queued or running, and updates the page.
(function () {
  const card = document.getElementById("run");
  if (!card) return;
  const done = new Set(["completed", "failed", "canceled"]);
  const labels = {queued: "Queued", running: "Running", completed: "Completed", failed: "Failed", canceled: "Canceled"};

  function field(name) {
    return card.querySelector('[data-field="' + name + '"]');
  }

  async function poll() {
    const response = await fetch(card.dataset.url, {credentials: "same-origin"});
    if (!response.ok) return;
    const run = await response.json();
    ["total", "queued", "enriched", "verified", "failed", "skipped", "error"].forEach((name) => {
      field(name).textContent = run[name];
    });
    field("status").textContent = labels[run.status] || run.status;
    field("progress-bar").style.width = run.progress + "%";
    card.querySelector(".progress").setAttribute("aria-valuenow", run.progress);
    if (!done.has(run.status)) setTimeout(poll, 2000);
  }

  poll();
})();
