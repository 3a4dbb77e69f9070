// Agent workspace keyboard shortcuts, typing presence and KB link insertion.
// j/k move, x select, Enter open, r reply, n note, a assign, ? help. No inline scripts (CSP).
(function () {
  "use strict";

  function typingInField(event) {
    var el = event.target;
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll(".ticket-row")); }

  function selectRow(index) {
    var all = rows();
    if (!all.length) { return; }
    index = Math.max(0, Math.min(all.length - 1, index));
    all.forEach(function (row, i) {
      row.classList.toggle("is-selected", i === index);
      if (i === index) { row.setAttribute("aria-selected", "true"); } else { row.removeAttribute("aria-selected"); }
    });
    all[index].scrollIntoView({ block: "nearest" });
    var link = all[index].querySelector("a");
    if (link) { link.focus({ preventScroll: true }); }
  }

  function currentIndex() {
    return rows().findIndex(function (row) { return row.classList.contains("is-selected"); });
  }

  function showHelp() {
    var dialog = document.getElementById("shortcut-help");
    if (dialog && !dialog.open) { dialog.showModal(); }
  }

  function focusReply(kind) {
    var form = document.getElementById("reply-form");
    if (!form) { return; }
    var select = form.querySelector('select[name="kind"]');
    if (select) { select.value = kind; }
    var body = form.querySelector('textarea[name="body"]');
    if (body) { body.focus(); }
  }

  // "a": claim an unassigned ticket; otherwise go to the assignee field to hand it on.
  function assign() {
    var claim = document.getElementById("claim-form");
    if (claim) { claim.requestSubmit(); return; }
    var select = document.getElementById("assignee-select");
    if (select) { select.focus(); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "Escape" && typingInField(event)) { event.target.blur(); return; }
    if (typingInField(event)) { return; }
    var onQueue = document.querySelector('[data-shortcuts="queue"]');
    var onTicket = document.querySelector('[data-shortcuts="ticket"]');
    if (!onQueue && !onTicket) { return; }
    var key = event.key;
    if (key === "?") { showHelp(); event.preventDefault(); return; }
    if (onQueue) {
      if (key === "j") { selectRow(currentIndex() + 1); event.preventDefault(); }
      else if (key === "k") { selectRow(currentIndex() < 0 ? 0 : currentIndex() - 1); event.preventDefault(); }
      else if (key === "Enter" && currentIndex() >= 0) {
        window.location.href = rows()[currentIndex()].dataset.href; event.preventDefault();
      } else if (key === "x" && currentIndex() >= 0) {
        var box = rows()[currentIndex()].querySelector('input[type="checkbox"]');
        if (box) { box.checked = !box.checked; }
        event.preventDefault();
      }
    }
    if (onTicket) {
      if (key === "r") { focusReply("reply"); event.preventDefault(); }
      else if (key === "n") { focusReply("note"); event.preventDefault(); }
      else if (key === "a") { assign(); event.preventDefault(); }
    }
  });

  document.addEventListener("click", function (event) {
    var help = event.target.closest("[data-shortcut-help]");
    if (help) { showHelp(); return; }
    var insert = event.target.closest("[data-insert-link]");
    if (insert) {
      var body = document.querySelector('#reply-form textarea[name="body"]');
      if (body) {
        var text = insert.dataset.insertTitle + ": " + insert.dataset.insertLink;
        var at = body.selectionStart || body.value.length;
        body.value = body.value.slice(0, at) + text + body.value.slice(at);
        body.focus();
      }
    }
  });

  // Macros: fetch the filled-in reply into the reply box so the agent can edit it before sending.
  // (Without JavaScript the button stays hidden and "Send macro reply" posts it as it is.)
  function insertMacro(url, button) {
    var body = document.querySelector('#reply-form textarea[name="body"]');
    if (!body) { return; }
    fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.text();
    }).then(function (text) {
      var kind = document.querySelector('#reply-form select[name="kind"]');
      if (kind) { kind.value = "reply"; }
      body.value = body.value ? body.value + "\n\n" + text : text;
      body.focus();
      // A placeholder the ticket has no value for stays as "{{ name }}": say so now, not at Send.
      var unfilled = document.getElementById("macro-unfilled");
      if (unfilled) { unfilled.hidden = !/\{\{\s*[a-z_]+\s*\}\}/.test(text); }
    }).catch(function () { button.classList.add("has-error"); });
  }
  var macroButton = document.querySelector("[data-macro-text]");
  if (macroButton) {
    macroButton.hidden = false;
    macroButton.addEventListener("click", function () {
      var select = document.getElementById("macro-select");
      if (!select) { return; }
      insertMacro(macroButton.dataset.macroText.replace(/\/0\/text$/, "/" + encodeURIComponent(select.value) + "/text"), macroButton);
    });
  }
  // Buttons that need this script are rendered hidden (without JavaScript, or clicked before it has
  // run, they would do nothing); the insert buttons also need the reply box, and replace the link or
  // text shown for copying (data-fallback). Suggested answers and article results arrive later.
  function reveal(root) {
    root.querySelectorAll("[data-shortcut-help]").forEach(function (button) { button.hidden = false; });
    if (!document.querySelector('#reply-form textarea[name="body"]')) { return; }
    root.querySelectorAll("[data-insert-link], [data-insert-macro]").forEach(function (button) {
      button.hidden = false;
      var item = button.closest("li");
      if (item) { item.querySelectorAll("[data-fallback]").forEach(function (shown) { shown.hidden = true; }); }
    });
  }
  reveal(document);
  document.addEventListener("htmx:load", function (event) { reveal(event.detail.elt); });

  // Suggested answers (loaded after the page): a macro goes into the reply box in one click.
  document.addEventListener("click", function (event) {
    var suggested = event.target.closest("[data-insert-macro]");
    if (suggested) { insertMacro(suggested.dataset.insertMacro, suggested); }
  });

  // Typing presence: the hidden field says whether this agent typed in the last 15 s; a change
  // fires "typing-changed", which makes the presence form poll at once.
  var typingTimer = null;
  function setTyping(value) {
    var field = document.getElementById("presence-typing");
    if (!field || field.value === value) { return; }
    field.value = value;
    document.body.dispatchEvent(new CustomEvent("typing-changed"));
  }
  document.addEventListener("input", function (event) {
    if (!event.target.closest || !event.target.closest("#reply-form")) { return; }
    setTyping("y");
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { setTyping(""); }, 15000);
  });
})();
