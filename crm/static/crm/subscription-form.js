// Makes an embedded AICMO subscription form work on another site: fetches a fresh render token when
// the page shows the form (the time trap counts from then), and posts it with fetch so the answer is
// shown in place. The server answers CORS only to the sites the form lists.
(function () {
  "use strict";
  function show(form, message) {
    form.querySelector("[data-aicmo-status]").textContent = message;
  }
  function clearErrors(form) {
    form.querySelectorAll(".aicmo-field-error").forEach(function (node) { node.remove(); });
  }
  function setUp(form) {
    var base = form.getAttribute("data-aicmo-form");
    fetch(base + "token/", {credentials: "omit"})
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
      .then(function (body) { form.elements.token.value = body.token; })
      .catch(function () { show(form, "This form cannot be used on this site."); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      clearErrors(form);
      fetch(form.action, {method: "POST", body: new FormData(form), credentials: "omit",
                          headers: {Accept: "application/json"}})
        .then(function (response) {
          return response.json().then(function (body) { return {status: response.status, body: body}; });
        })
        .then(function (answer) {
          if (answer.status === 200 && answer.body.redirect_url) {
            window.location.assign(answer.body.redirect_url);
            return;
          }
          show(form, answer.body.detail || "Something went wrong. Please try again.");
          if (answer.status === 200) {
            form.querySelectorAll("input, button, fieldset").forEach(function (node) { node.disabled = true; });
            return;
          }
          Object.keys(answer.body.fields || {}).forEach(function (name) {
            var input = form.elements[name === "topics" ? "topics" : name];
            var error = document.createElement("p");
            error.className = "aicmo-field-error";
            error.textContent = answer.body.fields[name].join(" ");
            var anchor = input && (input.length ? input[input.length - 1] : input);
            if (anchor && anchor.parentNode) { anchor.parentNode.insertBefore(error, anchor.nextSibling); }
          });
        })
        .catch(function () { show(form, "The form could not be sent. Please try again."); });
    });
  }
  document.querySelectorAll("form[data-aicmo-form]").forEach(setUp);
})();
