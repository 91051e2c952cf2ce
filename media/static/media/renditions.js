// While an image's renditions are being made, the card carries data-poll: fetch it again every
// two seconds and swap it in, until a version without data-poll (all made) arrives.
(function () {
  const DELAY_MS = 2000;

  function schedule() {
    const card = document.getElementById("renditions");
    if (card && card.dataset.poll) setTimeout(() => refresh(card.dataset.poll), DELAY_MS);
  }

  async function refresh(url) {
    try {
      const response = await fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" });
      if (response.ok) {
        const doc = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = doc.getElementById("renditions");
        if (fresh) document.getElementById("renditions").replaceWith(fresh);
      }
    } catch (error) {
      // A network blip: try again at the next tick.
    }
    schedule();
  }

  schedule();
})();
