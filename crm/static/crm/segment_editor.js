// Live count while a segment's rules are edited: POSTs the unsaved rules to /api/segments/preview/.
(function () {
  const form = document.getElementById("segment-form");
  if (!form) return;
  const rules = form.querySelector("textarea[name=rules]");
  const count = document.getElementById("live-count");
  const status = document.getElementById("live-status");
  const errors = document.getElementById("rule-errors");
  const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  const operators = JSON.parse(document.getElementById("segment-operators").textContent);
  const table = document.getElementById("operators");
  Object.entries(operators).forEach(([field, ops]) => {
    const row = table.insertRow();
    row.insertCell().textContent = field === "custom" ? "custom:<name>" : field;
    row.insertCell().textContent = ops.join(", ");
  });
  let timer = null;
  let sent = 0;

  function show(problems) {
    errors.replaceChildren(...problems.map((problem) => {
      const item = document.createElement("li");
      item.textContent = problem;
      return item;
    }));
  }

  async function refresh() {
    let parsed;
    try {
      parsed = JSON.parse(rules.value);
    } catch (error) {
      show(["The rules are not valid JSON yet: " + error.message]);
      return;
    }
    const mine = ++sent;
    status.textContent = "counting…";
    const response = await fetch("/api/segments/preview/", {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token},
      body: JSON.stringify({rules: parsed}),
    });
    if (mine !== sent) return;  // an older answer arriving late must not overwrite a newer one
    const body = await response.json();
    status.textContent = "";
    if (response.ok) {
      count.textContent = body.count;
      show([]);
    } else {
      count.textContent = "?";
      const problems = (body.extra && body.extra.errors) || [];
      show(problems.length ? problems.map((p) => p.path + ": " + p.message) : [body.message]);
    }
  }

  rules.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
  refresh();
})();
