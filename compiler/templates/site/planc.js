// planc site behaviour, no dependencies: home filters, click-to-sort tables, the run status
// filter, the run comparison view, and a visible sign on tables that scroll sideways.
// Every text from the page is set with textContent (never innerHTML).
(function () {
  function rows(table) { return Array.prototype.slice.call(table.tBodies[0] ? table.tBodies[0].rows : []); }
  function statusOf(row) {
    var b = row.querySelector(".planc-badge");
    if (!b) { return ""; }
    var m = /planc-(\w+)/.exec(Array.prototype.filter.call(b.classList, function (c) { return c !== "planc-badge"; }).join(" "));
    return m ? m[1] : "";
  }

  function homeFilter() {
    var text = document.getElementById("planc-filter-text");
    var kind = document.getElementById("planc-filter-kind");
    var status = document.getElementById("planc-filter-status");
    if (!text || !kind) { return; }
    var table = document.querySelector("article table");
    if (!table) { return; }
    function apply() {
      var q = text.value.toLowerCase();
      var k = kind.value;
      var s = status ? status.value : "";
      rows(table).forEach(function (row) {
        var cells = row.querySelectorAll("td");
        var rowKind = cells.length > 1 ? cells[1].textContent.trim() : "";
        var hasStatus = !s || row.querySelector(".planc-badge.planc-" + s) !== null;
        var match = row.textContent.toLowerCase().indexOf(q) !== -1 && (!k || rowKind === k) && hasStatus;
        row.style.display = match ? "" : "none";
      });
    }
    text.addEventListener("input", apply);
    kind.addEventListener("change", apply);
    if (status) { status.addEventListener("change", apply); }
  }

  function sortKey(cell) {
    var t = cell.textContent.trim();
    var n = parseFloat(t.replace(/,/g, ""));
    if (/^-?[\d.,]+(e-?\d+)?(\s|$)/i.test(t) && !isNaN(n)) {
      if (/\bmin\b/.test(t)) { n *= 60; } else if (/\bh\b/.test(t)) { n *= 3600; }
      return { num: n, text: t };
    }
    return { num: null, text: t.toLowerCase() };
  }

  function sortable() {
    document.querySelectorAll(".planc-table table").forEach(function (table) {
      if (table.dataset.plancSort) { return; }
      table.dataset.plancSort = "1";
      var heads = table.tHead ? table.tHead.rows[0].cells : [];
      Array.prototype.forEach.call(heads, function (th, col) {
        if (th.querySelector(".planc-pick-all")) { return; }
        th.classList.add("planc-sortable");
        th.setAttribute("tabindex", "0");
        th.setAttribute("aria-sort", "none");
        th.title = "Sort by this column";
        function go() {
          var asc = th.getAttribute("aria-sort") !== "ascending";
          Array.prototype.forEach.call(heads, function (h) { h.setAttribute("aria-sort", "none"); });
          th.setAttribute("aria-sort", asc ? "ascending" : "descending");
          var body = table.tBodies[0];
          var sorted = rows(table).map(function (r, i) { return { r: r, i: i, k: sortKey(r.cells[col] || r) }; });
          sorted.sort(function (a, b) {
            var x = a.k, y = b.k, c;
            if (x.num !== null && y.num !== null) { c = x.num - y.num; }
            else if (x.num !== null) { return -1; }   // numbers before blanks, either way
            else if (y.num !== null) { return 1; }
            else { c = x.text < y.text ? -1 : x.text > y.text ? 1 : 0; }
            return (asc ? c : -c) || a.i - b.i;
          });
          sorted.forEach(function (s) { body.appendChild(s.r); });
        }
        th.addEventListener("click", go);
        th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); } });
      });
    });
  }

  function statusFilter() {
    document.querySelectorAll(".planc-status-filter").forEach(function (select) {
      var table = document.querySelector(".planc-runs table");
      if (!table) { return; }
      select.addEventListener("change", function () {
        rows(table).forEach(function (row) {
          row.style.display = !select.value || statusOf(row) === select.value ? "" : "none";
        });
      });
    });
  }

  function show(value) {
    if (value === undefined || value === null) { return "—"; }
    if (typeof value === "number") { return String(Math.round(value * 1e6) / 1e6); }
    return String(value);
  }

  function compare() {
    var box = document.querySelector(".planc-compare");
    var button = document.querySelector(".planc-compare-button");
    if (!box || !button) { return; }
    var data;
    try { data = JSON.parse(box.getAttribute("data-runs") || "[]"); } catch (e) { return; }
    var byName = {};
    data.forEach(function (r) { byName[r.name] = r; });
    var picks = document.querySelectorAll(".planc-pick");
    function picked() {
      return Array.prototype.filter.call(picks, function (p) { return p.checked; })
        .map(function (p) { return byName[p.value]; }).filter(Boolean);
    }
    picks.forEach(function (p) { p.addEventListener("change", function () { button.disabled = picked().length < 2; }); });
    button.addEventListener("click", function () {
      var runs = picked();
      var out = box.querySelector(".planc-compare-out");
      out.textContent = "";
      var table = document.createElement("table");
      var head = table.createTHead().insertRow();
      ["", ...runs.map(function (r) { return r.name; })].forEach(function (t) {
        var th = document.createElement("th"); th.textContent = t; head.appendChild(th);
      });
      var body = table.createTBody();
      var differ = 0;
      [["config", "setting"], ["metrics", "metric"]].forEach(function (part) {
        var keys = [];
        runs.forEach(function (r) { Object.keys(r[part[0]] || {}).forEach(function (k) { if (keys.indexOf(k) < 0) { keys.push(k); } }); });
        keys.forEach(function (k) {
          var values = runs.map(function (r) { return show((r[part[0]] || {})[k]); });
          if (values.every(function (v) { return v === values[0]; })) { return; }
          differ += 1;
          var row = body.insertRow();
          var th = document.createElement("th"); th.textContent = k; th.className = "planc-" + part[1]; row.appendChild(th);
          values.forEach(function (v) { row.insertCell().textContent = v; });
        });
      });
      if (!differ) { out.textContent = "The selected runs do not differ in any setting or metric."; }
      else {
        var wrap = document.createElement("div"); wrap.className = "planc-scroll"; wrap.appendChild(table);
        out.appendChild(wrap);
      }
      box.hidden = false;
      box.scrollIntoView({ block: "nearest" });
    });
  }

  function scrollHints() {
    document.querySelectorAll(".md-typeset__scrollwrap, .planc-scroll").forEach(function (el) {
      el.classList.toggle("planc-overflow", el.scrollWidth > el.clientWidth + 1);
    });
  }

  function setup() {
    homeFilter(); sortable(); statusFilter(); compare(); scrollHints();
  }
  window.addEventListener("resize", scrollHints);
  if (typeof document$ !== "undefined") { document$.subscribe(setup); }
  else { document.addEventListener("DOMContentLoaded", setup); }
})();
