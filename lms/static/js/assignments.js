// Warn before uploading a file the server will refuse for its size (the server checks again, whatever this says).
(function () {
  "use strict";
  var input = document.querySelector("input[type=file][data-max-bytes]");
  var warning = document.getElementById("file-size-warning");
  if (!input || !warning) { return; }
  input.addEventListener("change", function () {
    var limit = parseInt(input.getAttribute("data-max-bytes"), 10);
    var file = input.files && input.files[0];
    if (file && file.size > limit) {
      warning.textContent = "This file is " + (file.size / 1048576).toFixed(1) + " MB; the limit is " +
        Math.floor(limit / 1048576) + " MB. Compress it or export it as PDF first.";
      warning.hidden = false;
    } else {
      warning.textContent = "";
      warning.hidden = true;
    }
  });
})();
