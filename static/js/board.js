// The pipeline board (drag a card to another column) and the lead list (select many).
// Everything here has a no-JS fallback in the page: the card's "Move to" menu, plain forms.
(function () {
  "use strict";

  function toast(message, level) {
    document.dispatchEvent(new CustomEvent("toast", {
      detail: { messages: [{ message: message, level: level || "info" }] }
    }));
  }

  // Board: HTML5 drag and drop ----------------------------------------------------------
  var dragged = null;

  function columnOf(node) {
    var column = node && node.closest ? node.closest(".board-column") : null;
    return column ? column.querySelector("[data-drop-status]") : null;
  }

  function clearTargets() {
    document.querySelectorAll(".board-column.is-drop-target").forEach(function (el) {
      el.classList.remove("is-drop-target");
    });
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".lead-card[draggable='true']");
    if (!card) return;
    dragged = card;
    card.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
  });

  document.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("is-dragging");
    dragged = null;
    clearTargets();
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var list = columnOf(event.target);
    if (!list) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    var column = list.closest(".board-column");
    if (!column.classList.contains("is-drop-target")) {
      clearTargets();
      column.classList.add("is-drop-target");
    }
  });

  document.addEventListener("drop", function (event) {
    var card = dragged;
    var list = columnOf(event.target);
    if (!card || !list) return;
    event.preventDefault();
    clearTargets();
    var status = list.getAttribute("data-drop-status");
    if (columnOf(card) === list) return;
    card.classList.add("is-moving");
    // The server answers with the card for its new column (an out-of-band swap) and the
    // events that refresh the column counts and show the toast; the dragged copy goes.
    window.htmx.ajax("POST", card.getAttribute("data-move-url"), {
      source: card,
      target: card,
      swap: "delete",
      values: { status: status }
    });
  });

  document.addEventListener("htmx:responseError", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.classList && elt.classList.contains("lead-card")) {
      elt.classList.remove("is-moving");
      toast("The lead could not be moved (" + event.detail.xhr.status + "). Reload the page and try again.", "error");
    }
  });
  document.addEventListener("htmx:sendError", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.classList && elt.classList.contains("lead-card")) {
      elt.classList.remove("is-moving");
      toast("The lead could not be moved: no connection.", "error");
    }
  });

  // After a move, focus stays with the card in its new column (keyboard users keep their
  // place). HX-Trigger's leadMoved {id, status} comes before the card is swapped in.
  var movedId = null;
  document.addEventListener("leadMoved", function (event) {
    movedId = event.detail && event.detail.id ? "card-" + event.detail.id : null;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!movedId) return;
    var moved = document.getElementById(movedId);
    movedId = null;
    if (!moved) return;
    var summary = moved.querySelector(".move-menu summary") || moved.querySelector("a");
    if (summary) summary.focus();
  });

  // Lead list: select the page, show the input the chosen bulk action needs ------------------
  function bulkForm() { return document.getElementById("bulk-form"); }

  function updateCount(form) {
    var counter = form.querySelector("[data-bulk-count]");
    if (!counter) return;
    var all = form.querySelector("[data-bulk-all]");
    var ticked = form.querySelectorAll("input[name='ids']:checked").length;
    counter.textContent = all && all.checked ? "" : (ticked ? ticked + " selected" : "");
  }

  function showBulkFields(form) {
    var select = form.querySelector("[data-bulk-action]");
    if (!select) return;
    form.querySelectorAll("[data-bulk-for]").forEach(function (field) {
      var wanted = field.getAttribute("data-bulk-for").split(" ");
      field.hidden = wanted.indexOf(select.value) === -1;
    });
  }

  function setUpList() {
    var form = bulkForm();
    if (!form || form.getAttribute("data-ready")) return;
    form.setAttribute("data-ready", "1");
    var pageBox = form.querySelector("[data-select-page]");
    if (pageBox) pageBox.hidden = false;
    showBulkFields(form);
    updateCount(form);
  }

  document.addEventListener("change", function (event) {
    var form = bulkForm();
    if (!form || !form.contains(event.target)) return;
    if (event.target.matches("[data-select-page]")) {
      form.querySelectorAll("input[name='ids']").forEach(function (box) {
        box.checked = event.target.checked;
      });
    }
    if (event.target.matches("[data-bulk-action]")) showBulkFields(form);
    updateCount(form);
  });

  document.addEventListener("DOMContentLoaded", setUpList);
  document.addEventListener("htmx:afterSettle", setUpList);
})();
