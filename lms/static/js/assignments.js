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

// The grading rubric's grid: arrow keys move between cells (left/right along a criterion's levels, up/down to the
// same level of the next criterion), Enter or Space chooses the cell, and the running total follows the choices.
// Underneath it is a plain form of radio buttons: without this script a click still chooses and the form still saves.
(function () {
  "use strict";
  var grid = document.querySelector("[data-rubric-grid]");
  if (!grid) { return; }
  var rows = Array.prototype.slice.call(grid.querySelectorAll("[data-rubric-row]"));
  var cells = rows.map(function (row) {
    return Array.prototype.slice.call(row.querySelectorAll("input[type=radio]"));
  });
  var total = grid.querySelector("[data-rubric-total]");

  function updateTotal() {
    if (!total) { return; }
    var points = 0;
    grid.querySelectorAll("input[type=radio]:checked").forEach(function (input) {
      points += parseInt(input.getAttribute("data-points"), 10) || 0;
    });
    total.textContent = points + " of " + total.getAttribute("data-max") + " points";
  }

  function moveTo(rowIndex, columnIndex) {
    if (rowIndex < 0 || rowIndex >= cells.length) { return; }
    var row = cells[rowIndex];
    if (!row.length) { return; }
    var target = row[Math.max(0, Math.min(columnIndex, row.length - 1))];
    target.focus();
  }

  cells.forEach(function (row, rowIndex) {
    row.forEach(function (input, columnIndex) {
      input.addEventListener("keydown", function (event) {
        var key = event.key;
        if (key === "ArrowRight" || key === "ArrowLeft" || key === "ArrowUp" || key === "ArrowDown") {
          event.preventDefault();  // the browser's own arrows would choose as they move
          if (key === "ArrowRight") { moveTo(rowIndex, columnIndex + 1); }
          if (key === "ArrowLeft") { moveTo(rowIndex, columnIndex - 1); }
          if (key === "ArrowDown") { moveTo(rowIndex + 1, columnIndex); }
          if (key === "ArrowUp") { moveTo(rowIndex - 1, columnIndex); }
        } else if (key === "Enter" || key === " ") {
          event.preventDefault();  // Enter would send the form
          if (!input.checked) {
            input.checked = true;
            input.dispatchEvent(new Event("change", { bubbles: true }));
          }
        }
      });
      input.addEventListener("change", updateTotal);
    });
  });
  updateTotal();
})();

// Browsers that cannot show a PDF in a page (some phones, headless browsers) get the first page as an image.
(function () {
  "use strict";
  var frame = document.querySelector("[data-pdf-preview]");
  var image = document.querySelector("[data-pdf-fallback]");
  if (!frame || !image) { return; }
  if (navigator.pdfViewerEnabled === false) {
    frame.hidden = true;
    image.hidden = false;
  }
})();
