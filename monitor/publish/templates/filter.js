(function () {
  "use strict";
  var table = document.getElementById("targets");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var text = document.getElementById("filter");
  var status = document.getElementById("status-filter");
  var shown = document.getElementById("shown");
  function apply() {
    var words = text.value.toLowerCase().trim().split(/\s+/).filter(Boolean);
    var wanted = status.value;
    var count = 0;
    rows.forEach(function (row) {
      var hay = row.getAttribute("data-search");
      var ok = (!wanted || row.getAttribute("data-status") === wanted) &&
        words.every(function (word) { return hay.indexOf(word) !== -1; });
      row.hidden = !ok;
      if (ok) { count += 1; }
    });
    shown.textContent = String(count);
  }
  text.addEventListener("input", apply);
  status.addEventListener("change", apply);
  var headers = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(table.tHead.querySelectorAll("button"), function (button) {
    button.addEventListener("click", function () {
      var column = Number(button.getAttribute("data-column"));
      var numeric = button.hasAttribute("data-numeric");
      var th = button.parentNode;
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(headers, function (cell) { cell.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute("data-sort");
        var y = b.cells[column].getAttribute("data-sort");
        var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
        if (order === 0) {  // ties by target, whichever way: the same rows in the same order
          return a.getAttribute("data-target").localeCompare(b.getAttribute("data-target"));
        }
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  apply();
})();
