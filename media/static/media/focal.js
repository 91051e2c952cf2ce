// Focal point: a click on the picture stores where, as fractions of width and height.
(function () {
  const box = document.getElementById("focal");
  if (!box) return;
  const marker = document.getElementById("focal-marker");
  const x = document.getElementById("focal-x");
  const y = document.getElementById("focal-y");

  function place(fx, fy) {
    marker.style.left = (fx * 100) + "%";
    marker.style.top = (fy * 100) + "%";
  }

  place(parseFloat(box.dataset.x), parseFloat(box.dataset.y));
  if (!x) return;
  box.addEventListener("click", (event) => {
    const rect = box.getBoundingClientRect();
    const fx = Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
    const fy = Math.min(1, Math.max(0, (event.clientY - rect.top) / rect.height));
    x.value = fx.toFixed(4);
    y.value = fy.toFixed(4);
    place(fx, fy);
  });
})();
