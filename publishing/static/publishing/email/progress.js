// Refreshes a send's progress every two seconds while it is sending, from the API's progress endpoint.
(function () {
  const card = document.getElementById("progress");
  if (!card) return;
  async function refresh() {
    const response = await fetch(card.dataset.url, {credentials: "same-origin", headers: {Accept: "application/json"}});
    if (!response.ok) return;
    const progress = await response.json();
    for (const element of card.querySelectorAll("[data-field]")) {
      const name = element.dataset.field;
      if (name === "bar") element.style.width = progress.percent + "%";
      else element.textContent = progress[name] === null ? "—" : progress[name];
    }
    const status = document.getElementById("send-status");
    if (status && status.textContent.trim().toLowerCase() !== progress.status) status.textContent = progress.status;
    if (progress.status === "sending") setTimeout(refresh, 2000);
  }
  setTimeout(refresh, 2000);
})();
