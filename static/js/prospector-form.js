// Prospector capture forms: optional background submit for <form data-prospector-form>.
// Adds the page's UTM parameters and address, then shows the answer in place of the form.
(function () {
  "use strict";
  var UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];

  function note(form, text, isError) {
    var box = form.querySelector("[data-prospector-note]");
    if (!box) {
      box = document.createElement("p");
      box.setAttribute("data-prospector-note", "");
      box.setAttribute("role", isError ? "alert" : "status");
      form.appendChild(box);
    }
    box.textContent = text;
  }

  function send(form) {
    var data = new FormData(form);
    var params = new URLSearchParams(window.location.search);
    UTM.forEach(function (key) {
      if (!data.get(key) && params.get(key)) data.set(key, params.get(key));
    });
    if (!data.get("referrer")) data.set("referrer", window.location.href);
    var button = form.querySelector("[type=submit]");
    if (button) button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: data,
      headers: { Accept: "application/json" },
      credentials: "omit",
      mode: "cors"
    })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (result.ok && result.body.ok) {
          form.reset();
          note(form, result.body.message, false);
          return;
        }
        var error = result.body.error || {};
        var problems = error.details ? Object.keys(error.details).map(function (k) { return error.details[k]; }) : [];
        note(form, [error.message || "The form could not be sent."].concat(problems.filter(function (p) { return typeof p === "string"; })).join(" "), true);
      })
      .catch(function () { note(form, "The form could not be sent. Please try again.", true); })
      .then(function () { if (button) button.disabled = false; });
  }

  function arm(form) {
    if (form.getAttribute("data-prospector-armed")) return;
    form.setAttribute("data-prospector-armed", "1");
    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.FormData) return;  // plain post instead
      event.preventDefault();
      send(form);
    });
  }

  function armAll() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-prospector-form]"), arm);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", armAll);
  else armAll();
})();
