/* The survey form: a starter fills the titles and ticks the audiences it is written for,
   and the Spanish title follows the English one until it is written on its own.
   No inline script (the CSP forbids it): the starters' data comes from a json_script. */
(function () {
  "use strict";

  var titleEn = document.querySelector("[data-title-en]");
  var titleEs = document.querySelector("[data-title-es]");
  var starter = document.querySelector("[data-survey-starter]");
  var status = document.getElementById("starter-status");
  if (!titleEn || !titleEs) return;

  // The Spanish title follows while it is empty or still the English words.
  var esFollows = titleEs.value === "" || titleEs.value === titleEn.value;
  titleEn.addEventListener("input", function () {
    if (esFollows) titleEs.value = titleEn.value;
  });
  titleEs.addEventListener("input", function () {
    esFollows = titleEs.value.trim() === "";
  });

  var source = document.getElementById("survey-starters");
  if (!starter || !source) return;
  var starters = JSON.parse(source.textContent);
  var last = null; // the starter whose words are in the fields, while nobody changed them

  starter.addEventListener("change", function () {
    var data = starters[starter.value];
    if (!data) return;
    if (titleEn.value.trim() === "" || (last && titleEn.value === last.title)) {
      titleEn.value = data.title;
    }
    if (esFollows || titleEs.value.trim() === "" || (last && titleEs.value === last.title_es)) {
      titleEs.value = data.title_es;
      esFollows = false; // a written translation now: English edits no longer overwrite it
    }
    var ticked = [];
    document.querySelectorAll("input[name='audiences']").forEach(function (box) {
      box.checked = data.audiences.indexOf(box.value) !== -1;
      if (box.checked && box.labels && box.labels[0]) ticked.push(box.labels[0].textContent.trim());
    });
    last = data;
    if (status) {
      status.textContent = "Filled in from the starter: the title, and the audiences " +
        ticked.join(", ") + ".";
    }
  });
})();
