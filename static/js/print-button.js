// A button that prints the page (リカバリーコード): shown only where this script runs;
// without it, the browser's own print command prints the same page.
"use strict";

for (const button of document.querySelectorAll("[data-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
