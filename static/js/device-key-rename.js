/*
 * 端末名変更 in place on the 端末認証キー一覧.
 *
 * 編集 is a link to the rename page, which works without JavaScript. With this
 * script, 編集 turns the device name into an input instead: Enter or leaving
 * the field saves (a POST with the page's CSRF token to the same URL, asking
 * for JSON), Esc cancels. Messages come from the server or from data-*
 * attributes of the table, so they are translated like the rest of the page.
 */
(function () {
  "use strict";

  var table = document.querySelector("[data-rename-table]");
  if (!table || !window.fetch) {
    return;
  }
  var statusLine = document.querySelector("[data-rename-status]");

  function csrfToken() {
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }

  function announce(text) {
    if (statusLine) {
      statusLine.textContent = text;
      statusLine.hidden = !text;
    }
  }

  function startEditing(link) {
    var cell = link.closest("td");
    var nameElement = cell.querySelector("[data-device-name]");
    if (cell.querySelector("input.inline-edit")) {
      return;
    }
    var original = nameElement.textContent;
    var closed = false;
    var saving = false;

    var input = document.createElement("input");
    input.type = "text";
    input.className = "inline-edit";
    input.value = original;
    input.maxLength = parseInt(table.getAttribute("data-rename-maxlength"), 10) || 32;
    input.setAttribute("aria-label", table.getAttribute("data-rename-label"));
    input.setAttribute("autocomplete", "off");

    var error = document.createElement("p");
    error.className = "inline-edit-error";
    error.id = "rename-error-" + Math.random().toString(36).slice(2);
    error.setAttribute("role", "alert");
    error.hidden = true;
    input.setAttribute("aria-describedby", error.id);

    nameElement.hidden = true;
    link.hidden = true;
    nameElement.after(input, error);
    input.focus();
    input.select();

    // refocus: after Enter or Esc, keyboard users land back on 編集; after a
    // click elsewhere, focus stays where the user put it.
    function close(newName, refocus) {
      closed = true;
      if (newName !== null) {
        nameElement.textContent = newName;
        // The row's links and buttons name the device to screen readers
        // ("編集 Chrome", "停止 Chrome"): they take the new name too.
        cell.closest("tr").querySelectorAll(".visually-hidden").forEach(function (hidden) {
          if (hidden.textContent.trim() === original) {
            hidden.textContent = " " + newName;
          }
        });
      }
      input.remove();
      error.remove();
      nameElement.hidden = false;
      link.hidden = false;
      if (refocus) {
        link.focus();
      }
    }

    function showError(text) {
      error.textContent = text;
      error.hidden = false;
      input.setAttribute("aria-invalid", "true");
      if (document.activeElement !== input) {
        input.focus();
      }
    }

    function save(refocus) {
      if (closed || saving) {
        return;
      }
      if (input.value.trim() === original) {
        close(null, refocus);
        return;
      }
      saving = true;
      var body = new FormData();
      body.append("csrfmiddlewaretoken", csrfToken());
      body.append("device_name", input.value);
      fetch(link.href, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.json().then(function (data) {
            return { ok: response.ok, data: data };
          });
        })
        .then(function (result) {
          saving = false;
          if (result.ok) {
            close(result.data.device_name, refocus);
            announce(result.data.message);
          } else {
            showError((result.data.errors || []).join(" ") || table.getAttribute("data-rename-failed"));
          }
        })
        .catch(function () {
          saving = false;
          showError(table.getAttribute("data-rename-failed"));
        });
    }

    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        save(true);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close(null, true);
      }
    });
    input.addEventListener("blur", function () {
      save(false);
    });
  }

  table.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-rename]");
    if (link) {
      event.preventDefault();
      announce("");
      startEditing(link);
    }
  });
})();
