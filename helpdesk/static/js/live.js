// Live updates: the page listens to the server's event stream (Server-Sent Events) and refreshes
// the parts that changed. The element #live says what to follow (data-ticket) and where to poll if
// the stream cannot be opened (data-poll). Events carry no content: the page fetches itself again
// through the ordinary, access-checked routes, and swaps only the parts marked data-live-part.
(function () {
  "use strict";
  var RETRY_MS = 2000;
  var POLL_MS = 10000;
  var MAX_FAILURES = 6; // stream attempts in a row that never opened: then poll instead

  function start(root) {
    var meta = document.querySelector('meta[name="live-stream"]');
    var streamUrl = meta ? meta.content : "";
    var ticket = root.dataset.ticket || "";
    var lastId = null;
    var failures = 0;
    var source = null;

    function deliver(event) {
      if (event.id != null && (lastId === null || event.id > lastId)) { lastId = event.id; }
      if (event.kind === "hello") { return; }
      if (event.kind === "reset") { window.location.reload(); return; }
      document.dispatchEvent(new CustomEvent("live:event", { detail: event }));
    }

    function openStream() {
      var url = new URL(streamUrl, window.location.href);
      if (ticket) { url.searchParams.set("ticket", ticket); }
      if (lastId !== null) { url.searchParams.set("last_event_id", String(lastId)); }
      source = new EventSource(url.toString(), { withCredentials: url.origin !== window.location.origin });
      root.dataset.state = "connecting";
      source.onopen = function () { failures = 0; root.dataset.state = "stream"; };
      ["hello", "reset", "ticket.opened", "ticket.changed", "message.added", "presence"].forEach(function (kind) {
        source.addEventListener(kind, function (message) { deliver(JSON.parse(message.data)); });
      });
      source.onerror = function () {
        if (source.readyState !== EventSource.CLOSED) { return; } // the browser retries by itself
        source = null;
        failures += 1;
        if (failures >= MAX_FAILURES) { startPolling(); } else { setTimeout(openStream, RETRY_MS); }
      };
    }

    function poll() {
      var url = new URL(root.dataset.poll, window.location.href);
      if (lastId !== null) { url.searchParams.set("after", String(lastId)); }
      return fetch(url.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (!body) { return; }
          if (lastId === null) { lastId = body.last_id; return; }
          if (body.more) { window.location.reload(); return; }
          body.events.forEach(deliver);
          lastId = Math.max(lastId, body.last_id);
        })
        .catch(function () { /* offline: the next poll catches up */ });
    }

    function startPolling() {
      root.dataset.state = "polling";
      poll();
      setInterval(poll, POLL_MS);
    }

    if (streamUrl && window.EventSource) { openStream(); } else { startPolling(); }
  }

  // --- refreshing the page's parts -------------------------------------------------------------

  // The page as it is now; a fetch that fails (offline) is tried again every few seconds. A ticket
  // or case page names its address (data-url): after a refused save the browser shows the form's
  // POST address, which has no page to fetch.
  function fetchPage(use) {
    var root = document.getElementById("live");
    var url = (root && root.dataset.url) || window.location.href;
    fetch(url, { credentials: "same-origin", headers: { "X-Live-Refresh": "1" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html) { use(new DOMParser().parseFromString(html, "text/html")); } })
      .catch(function () { setTimeout(function () { fetchPage(use); }, RETRY_MS); });
  }

  function swapParts(doc) {
    doc.querySelectorAll("[data-live-part][id]").forEach(function (fresh) {
      var current = document.getElementById(fresh.id);
      if (current && current.innerHTML !== fresh.innerHTML) {
        current.replaceWith(document.importNode(fresh, true));
        if (window.htmx) { window.htmx.process(document.getElementById(fresh.id)); }
      }
    });
  }

  // The queue: rows inserted, updated or removed in place; when the agent has rows ticked, a notice
  // instead, so nothing moves under their pointer.
  function reconcileRows(doc) {
    var current = document.getElementById("queue-results");
    var fresh = doc.getElementById("queue-results");
    if (!current || !fresh) { return; }
    var body = current.querySelector("tbody");
    var freshBody = fresh.querySelector("tbody");
    if (!body || !freshBody) { current.replaceWith(document.importNode(fresh, true)); return; }
    var wanted = {};
    var before = null;
    Array.prototype.slice.call(freshBody.rows).reverse().forEach(function (row) {
      wanted[row.id] = true;
      var mine = document.getElementById(row.id);
      var copy = document.importNode(row, true);
      if (mine && mine.outerHTML === row.outerHTML) {
        copy = mine;
      } else if (mine) {
        mine.replaceWith(copy);
        copy.classList.add("live-changed");
      } else {
        copy.classList.add("live-changed");
      }
      body.insertBefore(copy, before && before.parentNode === body ? before : null);
      before = copy;
    });
    Array.prototype.slice.call(body.rows).forEach(function (row) {
      if (!wanted[row.id]) { row.remove(); }
    });
  }

  function queuePage(root) {
    var notice = document.getElementById("live-notice");
    var timer = null;
    var unassigned = {};
    var title = document.title;

    function rowsOf(doc) {
      var rows = doc.querySelectorAll("#queue-results tbody tr");
      return Array.prototype.map.call(rows, function (row) {
        return row.outerHTML.replace(/ ?live-changed/g, "");
      }).join("");
    }
    function selecting() {
      return document.querySelector('#queue-results input[name="ticket"]:checked') !== null;
    }
    function apply(doc) {
      reconcileRows(doc);
      notice.hidden = true;
    }
    function refresh() {
      fetchPage(function (doc) {
        swapParts(doc); // the view counts
        if (!selecting()) { apply(doc); } else if (rowsOf(doc) !== rowsOf(document)) { notice.hidden = false; }
      });
    }
    // Asked for: the list as it is now (not as it was when the notice appeared), ticks or not.
    notice.querySelector("button").addEventListener("click", function () { fetchPage(apply); });
    document.addEventListener("live:event", function (e) {
      var event = e.detail;
      if (event.kind === "presence") { return; }
      if (event.kind === "ticket.opened" && event.data && event.data.unassigned) { unassigned[event.number] = true; }
      if (event.data && !event.data.unassigned) { delete unassigned[event.number]; }
      var count = Object.keys(unassigned).length;
      document.title = count ? "(" + count + ") " + title : title;
      clearTimeout(timer);
      timer = setTimeout(refresh, 200);
    });
  }

  // A ticket page (agent) or a case page (customer): the thread and facts refreshed; the reply
  // box warns when the customer wrote again while the agent was typing.
  function ticketPage(root) {
    var timer = null;
    var warning = document.getElementById("customer-wrote");
    document.addEventListener("live:event", function (e) {
      var event = e.detail;
      if (event.kind === "presence") {
        document.body.dispatchEvent(new CustomEvent("live-presence"));
        return;
      }
      var reply = document.querySelector("#reply-form textarea");
      if (warning && reply && reply.value.trim() && event.data && event.data.from_customer) {
        warning.hidden = false;
      }
      clearTimeout(timer);
      timer = setTimeout(function () { fetchPage(swapParts); }, 200);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.getElementById("live");
    if (!root) { return; }
    if (root.dataset.page === "queue") { queuePage(root); } else { ticketPage(root); }
    start(root);
  });
})();
