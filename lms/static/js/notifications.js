// The bell: its unread count, read after the page loads (pages may be kept and served again; the count may not).
(function () {
  "use strict";
  var bell = document.querySelector("[data-bell]");
  if (!bell || !window.fetch) { return; }
  var badge = bell.querySelector("[data-bell-count]");
  fetch(bell.getAttribute("data-unread-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (data) {
      if (!data || typeof data.unread !== "number") { return; }
      if (data.unread > 0) {
        badge.textContent = data.unread > 99 ? "99+" : String(data.unread);
        badge.hidden = false;
        bell.setAttribute("aria-label", "Notifications, " + data.unread + " unread");
      } else {
        badge.hidden = true;
        bell.setAttribute("aria-label", "Notifications, none unread");
      }
    })
    .catch(function () { /* the bell stays a plain link */ });
}());
