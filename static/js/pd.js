/* PD session logging: type-ahead filter and "select all shown" on the attendee list, and
   reloading the list (htmx) when the schools change. No inline script; delegated events so
   a reloaded list keeps working. */
(function () {
  "use strict";

  function items(root) {
    return Array.prototype.slice.call(root.querySelectorAll("[data-roster-list] li"));
  }

  function shown(root) {
    return items(root).filter(function (li) { return !li.hidden; });
  }

  function syncAll(root) {
    var all = root.querySelector("[data-roster-all]");
    if (!all) return;
    var boxes = shown(root).map(function (li) { return li.querySelector("input"); });
    var ticked = boxes.filter(function (b) { return b.checked; }).length;
    all.checked = boxes.length > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }

  function updateCount(root) {
    var count = root.querySelector("[data-roster-count]");
    if (!count) return;
    var total = items(root).length;
    var visible = shown(root).length;
    var ticked = root.querySelectorAll("[data-roster-list] input:checked").length;
    count.textContent = (visible === total ? total + " on the roster" : visible + " of " + total + " shown") +
      ", " + ticked + " selected";
  }

  document.addEventListener("input", function (event) {
    var box = event.target.closest("[data-roster-filter]");
    if (!box) return;
    var root = box.closest("#roster") || document;
    var term = box.value.trim().toLowerCase();
    items(root).forEach(function (li) {
      li.hidden = term !== "" && li.getAttribute("data-name").indexOf(term) === -1;
    });
    syncAll(root);
    updateCount(root);
  });

  document.addEventListener("keydown", function (event) {
    // Enter in the filter box must not submit the whole form.
    if (event.key === "Enter" && event.target.closest("[data-roster-filter]")) {
      event.preventDefault();
    }
  });

  document.addEventListener("change", function (event) {
    var target = event.target;
    var root = target.closest("#roster");
    if (target.matches("[data-roster-all]") && root) {
      shown(root).forEach(function (li) { li.querySelector("input").checked = target.checked; });
      syncAll(root);
      updateCount(root);
      return;
    }
    if (root && target.name === "attendees") {
      syncAll(root);
      updateCount(root);
      return;
    }
    var form = target.closest("#session-form");
    if (form && target.name === "schools" && window.htmx) {
      var chosen = Array.prototype.slice.call(form.querySelectorAll("input[name=schools]:checked"))
        .map(function (b) { return b.value; });
      var roster = form.querySelector("#roster");
      if (!chosen.length) {
        roster.innerHTML = "<p class=\"mb-0\">Choose a school to see its roster.</p>";
        return;
      }
      var params = new URLSearchParams();
      chosen.slice(1).forEach(function (id) { params.append("also", id); });
      form.querySelectorAll("input[name=attendees]:checked").forEach(function (b) {
        params.append("attendees", b.value);
      });
      var url = form.getAttribute("data-roster-url").replace("/0/", "/" + chosen[0] + "/");
      window.htmx.ajax("GET", url + "?" + params.toString(), { target: roster, swap: "innerHTML" });
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.target.id === "roster") updateCount(event.target);
  });
  var initial = document.getElementById("roster");
  if (initial) updateCount(initial);
})();
