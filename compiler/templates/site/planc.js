// planc: filter the plans table on the home page by text and kind (no dependencies).
(function () {
  function setup() {
    var text = document.getElementById("planc-filter-text");
    var kind = document.getElementById("planc-filter-kind");
    if (!text || !kind) { return; }
    var table = document.querySelector("article table");
    if (!table) { return; }
    function apply() {
      var q = text.value.toLowerCase();
      var k = kind.value;
      table.querySelectorAll("tbody tr").forEach(function (row) {
        var cells = row.querySelectorAll("td");
        var rowKind = cells.length > 1 ? cells[1].textContent.trim() : "";
        var match = row.textContent.toLowerCase().indexOf(q) !== -1 && (!k || rowKind === k);
        row.style.display = match ? "" : "none";
      });
    }
    text.addEventListener("input", apply);
    kind.addEventListener("change", apply);
  }
  if (typeof document$ !== "undefined") { document$.subscribe(setup); }
  else { document.addEventListener("DOMContentLoaded", setup); }
})();
