// Certificates: the "Copy link" button on the holder's page (no inline script: the CSP allows only our files).
(function () {
  "use strict";
  function copy(button) {
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    var status = document.querySelector("[data-copy-status]");
    if (!input) { return; }
    var done = function () {
      if (status) { status.textContent = button.getAttribute("data-copied-text") || "Copied"; }
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () {
        input.select();
        if (status) { status.textContent = "Press Ctrl+C (or Cmd+C) to copy the selected link."; }
      });
    } else {
      input.focus();
      input.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      if (ok) { done(); } else if (status) { status.textContent = "Press Ctrl+C (or Cmd+C) to copy the selected link."; }
    }
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy-target]");
    if (button) { copy(button); }
  });
})();
