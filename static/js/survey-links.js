/* The survey links page: "Copy link" puts a link on the clipboard and says so in a live
   region. Where the page may not write the clipboard (an old browser, plain HTTP), the
   link's text is selected instead, ready for Ctrl+C. */
(function () {
  "use strict";

  var status = document.getElementById("copy-status");

  function say(text) {
    if (status) status.textContent = text;
  }

  function selectText(button) {
    var link = button.closest("td").querySelector("a");
    var range = document.createRange();
    range.selectNodeContents(link);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    say("The link is selected: press Ctrl+C (or Cmd+C) to copy it.");
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var label = button.firstChild.textContent;
    button.addEventListener("click", function () {
      var url = button.getAttribute("data-copy");
      if (!navigator.clipboard || !window.isSecureContext) {
        selectText(button);
        return;
      }
      navigator.clipboard.writeText(url).then(function () {
        button.firstChild.textContent = "Copied";
        say("Link copied: " + url);
        window.setTimeout(function () { button.firstChild.textContent = label; }, 3000);
      }, function () { selectText(button); });
    });
  });
})();
