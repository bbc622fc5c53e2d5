/*
 * Type-ahead for the login IDs of 端末認証キー新規発行.
 *
 * Without JavaScript the search box is a GET form: the page comes back with the
 * matching login IDs (at most 50, the chosen one always among them). With this
 * script, typing asks for the same page in the background and puts its list in
 * place of this one, so the rows are drawn by one template only. The login ID
 * chosen so far is sent along (login_id), so it stays in the list and checked.
 */
(function () {
  "use strict";

  var searchForm = document.querySelector("[data-picker-search]");
  var results = document.querySelector("[data-picker-results]");
  if (!searchForm || !results || !window.fetch || !window.DOMParser) {
    return;
  }
  var input = searchForm.querySelector('input[name="q"]');
  var statusLine = document.querySelector("[data-picker-status]");
  var DELAY = 250; // ms after the last keystroke
  var timer = null;
  var asked = 0;

  function chosenLoginId() {
    var checked = results.querySelector('input[type="radio"]:checked');
    if (checked) {
      return checked.getAttribute("data-login-id") || "";
    }
    var kept = searchForm.querySelector('input[name="login_id"]');
    return kept ? kept.value : "";
  }

  function search() {
    var query = new URLSearchParams({ q: input.value.trim() });
    var loginId = chosenLoginId();
    if (loginId) {
      query.set("login_id", loginId);
    }
    var number = ++asked;
    fetch(searchForm.action + "?" + query.toString(), {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(response.status);
      })
      .then(function (html) {
        if (number !== asked) {
          return; // a later search is on its way
        }
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.querySelector("[data-picker-results]");
        if (!fresh) {
          return;
        }
        var current = chosenLoginId(); // chosen while the answer was on its way
        results.replaceWith(fresh);
        results = fresh;
        fresh.querySelectorAll('input[type="radio"]').forEach(function (radio) {
          if (current && radio.getAttribute("data-login-id") === current) {
            radio.checked = true;
          }
        });
        if (statusLine) {
          statusLine.textContent = fresh.getAttribute("data-picker-summary") || "";
        }
      })
      .catch(function () {
        // The list stays as it was; the search button still works.
      });
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(search, DELAY);
  });
  searchForm.addEventListener("submit", function (event) {
    event.preventDefault();
    window.clearTimeout(timer);
    search();
  });
})();
