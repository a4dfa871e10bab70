// The type-ahead choice of schools/typeahead.py: an ARIA 1.2 combobox with a listbox.
// The text box keeps what the person reads; a hidden input named after the field carries
// the chosen id. With data-multiple, each pick adds a ticked checkbox to the chosen list
// (and announces a change event, so a form that reacts to its choices hears it). Arrow keys move through the matches (aria-activedescendant), Enter picks,
// Escape closes. Loaded as a static file: the site's CSP allows no inline script.
(function () {
  "use strict";

  function setUp(box) {
    var input = box.querySelector("input[role=combobox]");
    var list = box.querySelector("[role=listbox]");
    var status = box.querySelector("[data-typeahead-status]");
    var url = box.dataset.searchUrl;
    var multiple = box.hasAttribute("data-multiple");
    var chosenList = box.querySelector("[data-typeahead-chosen]");
    var hidden = null;
    if (!multiple) {
      var name = input.name;
      hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = name;
      hidden.value = box.dataset.chosenId || "";
      input.name = name + "__label";
      box.appendChild(hidden);
    }
    var options = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      options.forEach(function (li, i) {
        li.setAttribute("aria-selected", i === index ? "true" : "false");
        li.classList.toggle("active", i === index);
      });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", options[index].id);
        options[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function add(id, label) {
      var boxId = input.id + "-" + id;
      var existing = document.getElementById(boxId);
      if (existing) {
        existing.checked = true;
      } else {
        var item = document.createElement("li");
        item.className = "form-check";
        var tick = document.createElement("input");
        tick.type = "checkbox";
        tick.className = "form-check-input";
        tick.name = box.dataset.name;
        tick.value = id;
        tick.id = boxId;
        tick.checked = true;
        var text = document.createElement("label");
        text.className = "form-check-label";
        text.htmlFor = boxId;
        text.textContent = label;
        item.appendChild(tick);
        item.appendChild(text);
        chosenList.appendChild(item);
        existing = tick;
      }
      existing.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function choose(index) {
      var li = options[index];
      if (!li) return;
      if (multiple) {
        add(li.dataset.id, li.textContent);
        input.value = "";
        status.textContent = li.textContent + " added.";
      } else {
        input.value = li.textContent;
        hidden.value = li.dataset.id;
        status.textContent = li.textContent + " chosen.";
      }
      close();
    }

    function show(results) {
      list.replaceChildren();
      options = results.map(function (r, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", "false");
        li.className = "list-group-item list-group-item-action";
        li.dataset.id = r.id;
        li.textContent = r.label;
        li.addEventListener("mousedown", function (event) {
          event.preventDefault(); // keep the focus in the text box
          choose(i);
        });
        list.appendChild(li);
        return li;
      });
      list.hidden = options.length === 0;
      input.setAttribute("aria-expanded", options.length ? "true" : "false");
      status.textContent = options.length
        ? options.length + (options.length === 1 ? " match" : " matches") + ", use the arrow keys."
        : "No match.";
      active = -1;
    }

    function ask() {
      var mine = ++asked;
      fetch(url + "&q=" + encodeURIComponent(input.value), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (r) { return r.ok ? r.json() : { results: [] }; })
        .then(function (data) { if (mine === asked) show(data.results || []); })
        .catch(function () { status.textContent = "The list could not be loaded."; });
    }

    input.addEventListener("input", function () {
      if (hidden) hidden.value = ""; // typed over: the name is looked up again on saving
      clearTimeout(timer);
      timer = setTimeout(ask, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (list.hidden) { ask(); return; }
        highlight(Math.min(active + 1, options.length - 1));
      } else if (event.key === "ArrowUp") {
        event.preventDefault();
        highlight(Math.max(active - 1, 0));
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);
  }

  function setUpAll(root) {
    root.querySelectorAll("[data-typeahead]:not([data-typeahead-ready])").forEach(function (box) {
      box.setAttribute("data-typeahead-ready", "");
      setUp(box);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { setUpAll(document); });
  document.addEventListener("htmx:load", function (event) { setUpAll(event.target); });
})();
