// Prospector's small page behaviours. Loaded with `defer`; no inline script anywhere (CSP).
(function () {
  "use strict";

  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  // Toasts ---------------------------------------------------------------
  var TOAST_MS = 6000;

  function dismiss(toast) {
    toast.classList.add("is-leaving");
    window.setTimeout(function () { toast.remove(); }, 200);
  }

  function arm(toast) {
    // Errors stay until dismissed: the reader may need them.
    if (!toast.classList.contains("toast-error")) {
      window.setTimeout(function () { dismiss(toast); }, TOAST_MS);
    }
  }

  function showToast(message, level) {
    var region = document.getElementById("toasts");
    if (!region) return;
    var toast = document.createElement("div");
    toast.className = "toast toast-" + (level || "info");
    toast.setAttribute("role", level === "error" ? "alert" : "status");
    var text = document.createElement("span");
    text.className = "toast-text";
    text.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "toast-close";
    close.setAttribute("data-dismiss-toast", "");
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "\u00d7";
    toast.appendChild(text);
    toast.appendChild(close);
    region.appendChild(toast);
    arm(toast);
  }

  // HX-Trigger: {"toast": {"messages": [{"message": "...", "level": "success"}]}}
  document.addEventListener("toast", function (event) {
    var detail = event.detail || {};
    (detail.messages || []).forEach(function (m) { showToast(m.message, m.level); });
  });

  // Clicks: dismiss toasts, copy buttons, the mobile menu ---------------------
  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : event.target.parentElement;
    if (!target) return;

    var closer = target.closest("[data-dismiss-toast]");
    if (closer) {
      dismiss(closer.closest(".toast"));
      return;
    }

    var copier = target.closest("[data-copy]");
    if (copier) {
      var field = document.getElementById(copier.getAttribute("data-copy"));
      if (!field) return;
      var label = copier.querySelector("span") || copier;
      var done = function () {
        var before = label.textContent;
        label.textContent = "Copied";
        window.setTimeout(function () { label.textContent = before; }, 2000);
      };
      field.focus();
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          document.execCommand("copy");
          done();
        });
      } else {
        document.execCommand("copy");
        done();
      }
      return;
    }

    var toggle = target.closest("[data-nav-toggle]");
    if (toggle) {
      var body = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      if (body) body.classList.toggle("is-open", open);
    }
  });

  // Close open menus on Escape or a click elsewhere.
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open], details.confirm[open]").forEach(function (d) {
      if (d !== except && !d.contains(except)) d.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (event) {
    var inside = event.target.closest && event.target.closest("details.menu, details.confirm");
    closeMenus(inside);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.menu[open], details.confirm[open]");
    if (open) {
      open.removeAttribute("open");
      var summary = open.querySelector("summary");
      if (summary) summary.focus();
    }
  });

  // Exact times on hover in the reader's own time zone ("22 Nov 2026, 15:19 CET").
  var exact = window.Intl && Intl.DateTimeFormat
    ? new Intl.DateTimeFormat(undefined, {
        day: "numeric", month: "short", year: "numeric",
        hour: "2-digit", minute: "2-digit", timeZoneName: "short"
      })
    : null;
  function localizeTimes(scope) {
    scope.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) el.title = exact ? exact.format(when) : when.toLocaleString();
    });
  }

  // After an HTMX swap, focus goes somewhere sensible rather than being lost with the
  // replaced element: a field with an error, a panel asking for attention, the control
  // that had focus (same id in the new content), or else the swapped region's heading.
  // Tracked on focusin: hx-disabled-elt blurs a clicked button before the response comes.
  var lastFocused = null;
  var focusedId = null;
  document.addEventListener("focusin", function (event) { lastFocused = event.target; });
  document.addEventListener("htmx:beforeSwap", function () {
    var active = lastFocused && lastFocused !== document.body ? lastFocused : null;
    focusedId = active ? active.id || null : null;
    // A button without an id: come back to its form's first named control (a role select).
    var sibling = !focusedId && active && active.form && active.form.querySelector("[id]");
    if (sibling) focusedId = sibling.id;
  });

  function focusAfterSwap(scope) {
    var target = scope.querySelector("[aria-invalid='true'], [data-autofocus]");
    if (!target && focusedId) {
      var same = document.getElementById(focusedId);
      if (same && scope.contains(same)) target = same;
    }
    if (!target && (!document.activeElement || document.activeElement === document.body)) {
      target = scope.querySelector("h2, h3");
      if (target && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    }
    if (target) target.focus();
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    var scope = event.detail.target && document.body.contains(event.detail.target)
      ? event.detail.target
      : document.getElementById(event.detail.target && event.detail.target.id) || document.body;
    localizeTimes(scope);
    // Only after the reader's own action: a poll (a GET) must never pull focus away.
    var config = event.detail.requestConfig;
    if (config && config.verb !== "get") focusAfterSwap(scope);
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("#toasts .toast").forEach(arm);
    localizeTimes(document);
    var focus = document.querySelector("[data-autofocus]");
    if (focus) focus.focus();
  });
})();
