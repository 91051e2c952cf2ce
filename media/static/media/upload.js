// Multi-file drag-and-drop upload: posts the files in one request with a progress bar, lists each
// file's outcome, then refreshes the grid in place so the new assets appear.
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

  const bar = document.getElementById("upload-progress");
  const IDLE = "Drop images, videos, audio or PDFs here (several at once).";

  function showProgress(loaded, total, count) {
    const percent = total ? Math.floor((100 * loaded) / total) : 0;
    bar.hidden = false;
    bar.setAttribute("aria-valuenow", String(percent));
    bar.firstElementChild.style.width = percent + "%";
    zone.textContent = percent < 100
      ? "Uploading " + count + " file(s): " + percent + "% of " + megabytes(total) + "…"
      : "Checking " + count + " file(s)…";
  }

  function megabytes(bytes) {
    return (bytes / 1048576).toFixed(bytes < 10485760 ? 1 : 0) + " MB";
  }

  // XMLHttpRequest rather than fetch: only it reports upload progress, which matters for videos
  // of hundreds of megabytes.
  function post(data, count) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.setRequestHeader("Accept", "application/json");
      request.setRequestHeader("X-CSRFToken", form.elements.csrfmiddlewaretoken.value);
      request.responseType = "json";
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) showProgress(event.loaded, event.total, count);
      });
      request.addEventListener("load", () => resolve(request.response || { message: "HTTP " + request.status }));
      request.addEventListener("error", () => reject(new Error("the connection was lost")));
      request.send(data);
    });
  }

  async function send(files) {
    if (!files.length) return;
    results.textContent = "";
    const data = new FormData();
    data.append("library", form.elements.library.value);
    for (const file of files) data.append("files", file);
    showProgress(0, files.reduce((sum, file) => sum + file.size, 0), files.length);
    try {
      const body = await post(data, files.length);
      if (body.results) body.results.forEach(show);
      else show({ filename: "Upload", accepted: false, message: body.message });
      await refreshGrid();
    } catch (error) {
      show({ filename: "Upload", accepted: false, message: "The upload failed: " + error.message });
    }
    bar.hidden = true;
    zone.textContent = IDLE;
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
  // The script is deferred: a file chosen before this point would go unnoticed (browser tests wait for it).
  zone.dataset.ready = "true";
})();
