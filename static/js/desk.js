/* Small behaviours of the tech staff pages (no inline script: a CSP will forbid it).
 *
 * - Speed desks: Enter in a field with data-desk-next moves to that field instead of
 *   submitting (a scanner types the asset tag and Enter); after htmx swaps the fields, the
 *   field the server marked with autofocus (the failing one, or the first) gets the focus,
 *   its text selected so the next scan replaces it. The log keeps the last 20 lines. What
 *   is typed while an answer is on its way is carried into the new fields.
 * - Forms marked data-desk-queue (the audit) empty their field as soon as a scan is
 *   submitted and send the scans one after another, so the next scan can start at once.
 * - Inventory: the "select all on this page" checkbox.
 */
(function () {
  "use strict";

  var LOG_LIMIT = 20;

  // No settle pause on the desks: the next scan follows at once, and focus must not move
  // while it is being typed.
  if (window.htmx) window.htmx.config.defaultSettleDelay = 0;

  function focusField(field) {
    if (!field) return;
    field.focus();
    if (typeof field.select === "function") field.select();
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.isComposing) return;
    var field = event.target;
    if (!(field instanceof HTMLInputElement) || !field.dataset.deskNext) return;
    event.preventDefault();
    if (field.value.trim() === "") return;
    focusField(document.getElementById(field.dataset.deskNext));
  });

  // Keys typed since the last swap: once the next scan has begun, focus is the user's.
  var keysSinceSwap = 0;
  document.addEventListener("keydown", function () {
    keysSinceSwap += 1;
  }, true);

  // A scan typed while the previous one is still being answered must survive the answer:
  // the server sends fresh fields (or the refused ones), which would wipe what is being
  // typed, or what a queued submit is about to send. So when keys were pressed since the
  // request left, the fields' current values (and the focus) are carried into the new
  // fields; a refusal of the earlier scan stays in the flash message above the log.
  var typedSinceRequest = 0;
  var carried = null;
  document.addEventListener("keydown", function () {
    typedSinceRequest += 1;
  }, true);
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.target.closest && event.target.closest("form[data-desk]")) typedSinceRequest = 0;
  });

  function deskFields(desk) {
    return Array.prototype.filter.call(
      desk.querySelectorAll("input, select, textarea"),
      function (f) { return f.name && f.type !== "hidden" && f.type !== "submit"; }
    );
  }

  document.addEventListener("htmx:beforeSwap", function (event) {
    carried = null;
    var desk = document.querySelector("form[data-desk]");
    var source = (event.detail.requestConfig || {}).elt || event.detail.elt;
    if (!desk || !source || !desk.contains(source)) return;
    var values = {};
    var typed = false;
    deskFields(desk).forEach(function (f) {
      values[f.name] = f.type === "checkbox" || f.type === "radio" ? f.checked : f.value;
      if (f.type === "text" && f.value.trim() !== "") typed = true;
    });
    // A queue form empties its fields when a scan leaves, so whatever they hold now was
    // typed after it; a plain desk form still holds the scan it sent.
    if (desk.hasAttribute("data-desk-queue") ? !typed : typedSinceRequest === 0) return;
    var active = document.activeElement;
    carried = { values: values, focus: active && desk.contains(active) ? active.name : null };
  });

  function carryOver() {
    var desk = document.querySelector("form[data-desk]");
    if (!carried || !desk) return false;
    deskFields(desk).forEach(function (f) {
      if (!(f.name in carried.values)) return;
      var v = carried.values[f.name];
      if (f.type === "checkbox" || f.type === "radio") f.checked = v;
      else f.value = v;
      f.classList.remove("is-invalid");
      f.removeAttribute("aria-invalid");
    });
    desk.querySelectorAll(".invalid-feedback").forEach(function (el) { el.remove(); });
    refocus(desk);
    return true;
  }

  function refocus(desk) {
    var field = carried.focus ? desk.querySelector('[name="' + carried.focus + '"]') : null;
    if (!field) return;
    field.focus();
    if (typeof field.setSelectionRange === "function" && field.type === "text") {
      field.setSelectionRange(field.value.length, field.value.length);
    }
  }

  function afterDeskSwap(event) {
    document.querySelectorAll("[data-desk-log]").forEach(function (log) {
      while (log.children.length > LOG_LIMIT) log.removeChild(log.lastElementChild);
    });
    if (carried) {
      // htmx focuses the new fields' [autofocus] while settling: take the focus back then.
      if (event.type === "htmx:afterSwap") carryOver();
      else {
        var desk = document.querySelector("form[data-desk]");
        if (desk) refocus(desk);
        carried = null;
      }
      return;
    }
    if (event.type === "htmx:afterSwap") keysSinceSwap = 0;
    else if (keysSinceSwap > 0) return;
    var desk = document.querySelector("form[data-desk]");
    var field = desk ? desk.querySelector("[autofocus]") : null;
    if (field && document.activeElement !== field) focusField(field);
  }

  // At once after the swap, so a quick next scan lands in the right field, and again after
  // htmx has settled (it restores the focus of a replaced field by its id) unless the next
  // scan has already started typing.
  document.addEventListener("htmx:afterSwap", afterDeskSwap);
  document.addEventListener("htmx:afterSettle", afterDeskSwap);

  // Scan-after-scan forms (the audit): a scanner does not wait for the answer, so each
  // value is taken and the field emptied at once, and the values are sent one at a time in
  // order through htmx (target and swap from the form's hx-* attributes).
  var queue = [];
  var sending = false;

  function pump() {
    if (sending || queue.length === 0) return;
    sending = true;
    var job = queue.shift();
    var form = job.form;
    window.htmx
      .ajax("POST", form.getAttribute("hx-post"), {
        // The button, not the form: htmx would validate the form, whose field is now empty.
        // The form's other fields (the CSRF token) still go along.
        source: form.querySelector("[type=submit]") || form,
        target: form.getAttribute("hx-target"),
        swap: form.getAttribute("hx-swap"),
        values: job.values
      })
      .finally(function () {
        sending = false;
        pump();
      });
  }

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-desk-queue")) return;
      if (!window.htmx) return; // without htmx the form posts as a plain form
      event.preventDefault();
      event.stopImmediatePropagation();
      var values = {};
      var empty = true;
      form.querySelectorAll("input[type=text]").forEach(function (input) {
        values[input.name] = input.value;
        if (input.value.trim() !== "") empty = false;
        input.value = "";
      });
      if (empty) return;
      // The next scan starts in the first field while this one is on its way.
      var first = form.querySelector("input[type=text]");
      if (first && document.activeElement !== first) first.focus();
      queue.push({ form: form, values: values });
      pump();
    },
    true
  );

  function selectAllBoxes(master) {
    var scope = master.closest("form") || document;
    return scope.querySelectorAll('input[type=checkbox][name="' + master.dataset.selectAll + '"]');
  }

  function initSelectAll(root) {
    root.querySelectorAll("input[data-select-all]").forEach(function (master) {
      master.hidden = false;
    });
  }

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox") return;
    if (box.dataset.selectAll) {
      selectAllBoxes(box).forEach(function (other) {
        other.checked = box.checked;
      });
      return;
    }
    var form = box.closest("form");
    var master = form ? form.querySelector("input[data-select-all]") : null;
    if (!master || box.name !== master.dataset.selectAll) return;
    var boxes = Array.prototype.slice.call(selectAllBoxes(master));
    var ticked = boxes.filter(function (b) { return b.checked; }).length;
    master.checked = ticked === boxes.length && boxes.length > 0;
    master.indeterminate = ticked > 0 && ticked < boxes.length;
  });

  initSelectAll(document);
  document.addEventListener("htmx:afterSettle", function (event) {
    initSelectAll(event.target);
  });
})();
