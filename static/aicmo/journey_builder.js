// The journey builder: a step shows the settings of its kind only (the others are disabled, so not
// posted), a condition the setting it asks about, and the "then"/"otherwise" lists follow the steps'
// short names as they are typed.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("journey-builder");
  if (!form) return;
  const BRANCHING = ["condition", "random_split"];
  const showFor = (select, attribute) => {
    form.querySelectorAll(`[${attribute}]`).forEach((part) => {
      part.hidden = part.getAttribute(attribute) !== select.value;
    });
  };
  const showAsked = (panel) => {
    const ask = panel.querySelector("[data-ask]");
    panel.querySelectorAll("[data-when-ask]").forEach((part) => {
      part.hidden = Boolean(ask) && part.dataset.whenAsk !== ask.value;
    });
  };
  const showKind = (step) => {
    const kind = step.querySelector("[data-step-kind]").value;
    step.querySelectorAll("[data-kind-panel]").forEach((panel) => {
      const current = panel.dataset.kindPanel === kind;
      panel.hidden = !current;
      panel.disabled = !current;
      if (current) showAsked(panel);
    });
    step.querySelector("[data-way=next]").hidden = kind === "exit";
    step.querySelector("[data-way=other]").hidden = !BRANCHING.includes(kind);
  };
  const refreshWays = () => {
    const keys = [...form.querySelectorAll("[data-step-key]")].map((input) => input.value.trim()).filter(Boolean);
    form.querySelectorAll("[data-way-select]").forEach((select) => {
      const chosen = select.value;
      [...select.options].slice(1).forEach((option) => option.remove());
      keys.forEach((key) => select.add(new Option(key, key, false, key === chosen)));
    });
  };
  form.querySelectorAll("[data-shows]").forEach((select) => {
    const attribute = `data-for-${select.dataset.shows}`;
    showFor(select, attribute);
    select.addEventListener("change", () => showFor(select, attribute));
  });
  form.querySelectorAll("li.step").forEach((step) => {
    showKind(step);
    step.querySelector("[data-step-kind]").addEventListener("change", () => showKind(step));
    step.querySelectorAll("[data-ask]").forEach((ask) => {
      ask.addEventListener("change", () => showAsked(ask.closest("[data-kind-panel]")));
    });
  });
  form.querySelectorAll("[data-step-key]").forEach((input) => input.addEventListener("change", refreshWays));
});
