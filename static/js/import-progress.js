/*
 * CSVインポート: the job's progress bars follow the import without a reload.
 *
 * The page works without this script (its 最新の状態に更新 link reloads it).
 * With it, the page asks the job's progress URL (JSON) every second, moves the
 * bars and the counts, and reloads itself once the job has ended, to show the
 * result the server renders.
 */
(function () {
  "use strict";

  var box = document.querySelector("[data-import-progress]");
  if (!box || !window.fetch) {
    return;
  }
  var url = box.getAttribute("data-progress-url");
  var statusLine = box.querySelector("[data-progress-status]");
  var badge = document.querySelector("[data-status-label]");
  var delay = 1000;

  function show(data) {
    var total = data.lines_total || 0;
    box.querySelectorAll("[data-progress-bar]").forEach(function (bar) {
      bar.max = Math.max(total, 1);
      bar.value = data[bar.getAttribute("data-progress-bar")] || 0;
    });
    box.querySelectorAll("[data-progress-count]").forEach(function (count) {
      count.textContent = (data[count.getAttribute("data-progress-count")] || 0) + " / " + total;
    });
    if (badge && badge.textContent !== data.status_label) {
      badge.textContent = data.status_label;
      badge.className = "status import-status-" + data.status;
    }
    var text = statusLine && statusLine.getAttribute("data-text-" + data.status);
    if (text && statusLine.textContent.trim() !== text) {
      statusLine.textContent = text;
    }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.redirected) {
          // Signed out meanwhile: the page itself leads to the sign-in.
          window.location.reload();
          return null;
        }
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (data) {
        if (!data) {
          return;
        }
        show(data);
        if (data.active) {
          delay = 1000;
          window.setTimeout(poll, delay);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        // The network or the server briefly away: ask again, less often.
        delay = Math.min(delay * 2, 10000);
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
