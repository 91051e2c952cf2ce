// Drag a post onto another day: the drop fills in that post's own "Move to" form and sends it, so a
// drag and the keyboard path go through the same request and the same checks.
document.addEventListener("DOMContentLoaded", () => {
  let dragged = null;
  document.querySelectorAll(".calendar .job[draggable=true]").forEach((job) => {
    job.addEventListener("dragstart", (event) => {
      dragged = job;
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", job.dataset.job);
      job.classList.add("dragging");
    });
    job.addEventListener("dragend", () => {
      job.classList.remove("dragging");
      dragged = null;
    });
  });
  document.querySelectorAll(".calendar-day[data-day]").forEach((day) => {
    day.addEventListener("dragover", (event) => {
      if (!dragged) return;
      event.preventDefault();
      day.classList.add("drop-target");
    });
    day.addEventListener("dragleave", () => day.classList.remove("drop-target"));
    day.addEventListener("drop", (event) => {
      event.preventDefault();
      day.classList.remove("drop-target");
      if (!dragged) return;
      const form = dragged.querySelector("form.move-form");
      if (!form || form.elements.day.value === day.dataset.day) return;
      form.elements.day.value = day.dataset.day;
      form.requestSubmit();
    });
  });
});
