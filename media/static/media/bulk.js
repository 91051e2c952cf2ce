// Bulk actions on the grid: a "select all on this page" tick and a count of what is selected.
// Listens on the form, so it keeps working after upload.js swaps the grid in place.
(function () {
  const form = document.getElementById("bulk-form");
  const all = document.getElementById("select-page");
  if (!form || !all) return;
  const count = document.getElementById("selected-count");
  document.getElementById("select-page-label").hidden = false;

  function boxes() {
    return Array.from(form.querySelectorAll("input[name=ids]"));
  }

  function update() {
    const ticked = boxes().filter((box) => box.checked).length;
    all.checked = ticked > 0 && ticked === boxes().length;
    all.indeterminate = ticked > 0 && ticked < boxes().length;
    count.textContent = ticked ? ticked + " selected" : "";
  }

  all.addEventListener("change", () => {
    boxes().forEach((box) => { box.checked = all.checked; });
    update();
  });
  form.addEventListener("change", (event) => {
    if (event.target.name === "ids") update();
  });
})();
