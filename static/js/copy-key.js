/*
 * The copy button beside a key just issued (templates/devicekeys/key_issued.html).
 *
 * The button is hidden in the page and shown here only where the browser can copy
 * (the Clipboard API: HTTPS or localhost); without it the key stays selectable text.
 * What the button says after copying comes from its data-* attributes, translated
 * like the rest of the page.
 */
(function () {
  "use strict";

  if (!navigator.clipboard || !navigator.clipboard.writeText) {
    return;
  }
  var statusLine = document.querySelector("[data-copy-status]");

  function announce(text) {
    if (statusLine) {
      statusLine.textContent = text;
      statusLine.hidden = !text;
    }
  }

  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(
        function () {
          announce(button.getAttribute("data-copied"));
        },
        function () {
          announce(button.getAttribute("data-copy-failed"));
          window.getSelection().selectAllChildren(source);
        }
      );
    });
  });
})();
