// The back-office shell: the navigation folds behind a "Menu" button on narrow screens, and a wide
// table scrolls inside itself (reachable by keyboard) rather than widening the page.
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector(".nav-toggle");
  const sidebar = document.getElementById("sidebar");
  if (toggle && sidebar) {
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      sidebar.classList.toggle("open", open);
    });
  }
  const markScrollable = () => {
    document.querySelectorAll("main table").forEach((table) => {
      if (table.scrollWidth > table.clientWidth + 1) {
        table.setAttribute("tabindex", "0");
      } else if (table.getAttribute("tabindex") === "0") {
        table.removeAttribute("tabindex");
      }
    });
  };
  markScrollable();
  window.addEventListener("resize", markScrollable);
  // A search box inside a bigger form (the asset picker): Enter searches instead of saving the form.
  document.addEventListener("keydown", (event) => {
    const box = event.target;
    if (event.key === "Enter" && box.matches && box.matches("input[data-search-in-form]")) {
      event.preventDefault();
      box.dispatchEvent(new Event("search", {bubbles: true}));
    }
  });
});
