// Multi-file drag-and-drop upload: posts the files in one request, lists each file's outcome,
// then refreshes the grid in place so the new assets appear.
(function () {
  const form = document.getElementById("upload-form");
  if (!form) return;
  const input = document.getElementById("upload-files");
  const zone = document.getElementById("dropzone");
  const results = document.getElementById("upload-results");

  function show(item) {
    const li = document.createElement("li");
    li.className = item.accepted ? "ok" : "bad";
    li.textContent = item.filename + ": " + (item.accepted ? item.notice : item.message);
    results.appendChild(li);
  }

  async function refreshGrid() {
    const page = await fetch(window.location.href, { headers: { Accept: "text/html" } });
    const doc = new DOMParser().parseFromString(await page.text(), "text/html");
    const fresh = doc.getElementById("asset-grid");
    if (fresh) document.getElementById("asset-grid").replaceWith(fresh);
  }

  async function send(files) {
    if (!files.length) return;
    results.textContent = "";
    const data = new FormData();
    data.append("library", form.elements.library.value);
    for (const file of files) data.append("files", file);
    zone.textContent = "Uploading " + files.length + " file(s)…";
    try {
      const response = await fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": form.elements.csrfmiddlewaretoken.value },
      });
      const body = await response.json();
      if (body.results) body.results.forEach(show);
      else show({ filename: "Upload", accepted: false, message: body.message });
      await refreshGrid();
    } catch (error) {
      show({ filename: "Upload", accepted: false, message: "The upload failed: " + error });
    }
    zone.textContent = "Drop images, videos, audio or PDFs here (several at once).";
  }

  input.addEventListener("change", () => send(Array.from(input.files)));
  ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
    event.preventDefault();
    zone.classList.add("over");
  }));
  ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("over")));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    send(Array.from(event.dataTransfer.files));
  });
  zone.addEventListener("click", () => input.click());
})();
