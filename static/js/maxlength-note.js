/*
 * A paste longer than a field's maxlength.
 *
 * Every input carries its field's own limit as maxlength, and a browser cuts a
 * longer paste to it without a word: a password or a mail address would then be
 * sent shorter than it was. Here the whole pasted text goes into the field
 * instead, and a note under it says how long it is and what the field takes;
 * sent as it is, the server refuses it with the field's own message. Nothing is
 * cut. The note's words come from the page (data-text-length-note of this script's tag), so
 * they are translated like the rest of it. Without JavaScript the browser's cut
 * stands; the limit is shown beside the fields that have a help text.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var words = script && script.getAttribute("data-text-length-note");
  if (!words) {
    return;
  }

  function noteOf(field) {
    return document.getElementById(field.id + "-length-note");
  }

  function clear(field) {
    var note = noteOf(field);
    if (note) {
      note.remove();
      field.removeAttribute("aria-invalid");
    }
  }

  function show(field, length) {
    var note = noteOf(field);
    if (!note) {
      note = document.createElement("p");
      note.id = field.id + "-length-note";
      note.className = "field-errors";
      note.setAttribute("role", "status");
      field.insertAdjacentElement("afterend", note);
      var described = field.getAttribute("aria-describedby");
      field.setAttribute("aria-describedby", (described ? described + " " : "") + note.id);
    }
    field.setAttribute("aria-invalid", "true");
    note.textContent = words
      .replace("%(length)d", String(length))
      .replace("%(max)d", String(field.maxLength));
  }

  function textField(target) {
    return (
      (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement) &&
      target.maxLength > 0 &&
      target.id
    );
  }

  document.addEventListener("paste", function (event) {
    var field = event.target;
    if (!textField(field) || !event.clipboardData) {
      return;
    }
    var text = event.clipboardData.getData("text");
    var start = null;
    var end = null;
    try {
      start = field.selectionStart;
      end = field.selectionEnd;
    } catch (error) {
      // type="email" has no selection: the paste goes at the end
    }
    var before = field.value.length - (start === null ? 0 : end - start);
    if (before + text.length <= field.maxLength) {
      return;
    }
    event.preventDefault();
    if (start === null) {
      field.value += text;
    } else {
      field.setRangeText(text, start, end, "end");
    }
    field.dispatchEvent(new Event("input", { bubbles: true }));
    show(field, field.value.length);
  });

  document.addEventListener("input", function (event) {
    var field = event.target;
    if (textField(field) && field.value.length <= field.maxLength) {
      clear(field);
    }
  });
})();
