/* Workbench countdowns: every second, each [data-due] shows the time left (or overdue, in red).
   The server's clock is the reference (data-now), so a phone whose clock is wrong still counts right.
   Plain ES5 for old in-app browsers; cards swapped in by htmx are picked up on the next tick. */
(function () {
  var root = document.querySelector("[data-now]");
  if (!root) { return; }
  var offset = Number(root.getAttribute("data-now")) - Date.now();
  var units = (root.getAttribute("data-units") || "d,h,min,s").split(",");
  var left = root.getAttribute("data-left") || "{t} left";
  var late = root.getAttribute("data-late") || "{t} overdue";

  function span(ms) {
    var s = Math.floor(ms / 1000);
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d) { return d + units[0] + " " + h + units[1]; }
    if (h) { return h + units[1] + " " + m + units[2]; }
    return m + units[2] + " " + (s % 60) + units[3];
  }

  function tick() {
    var now = Date.now() + offset;
    var items = document.querySelectorAll("[data-due]");
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      var due = Date.parse(el.getAttribute("data-due"));
      if (isNaN(due)) { continue; }
      var ms = due - now, past = ms < 0;
      el.textContent = (past ? late : left).replace("{t}", span(Math.abs(ms)));
      if (past) { el.classList.add("late"); } else { el.classList.remove("late"); }
      var card = el.closest ? el.closest("[data-testid=demand-card]") : null;
      if (card) { if (past) { card.classList.add("late"); } else { card.classList.remove("late"); } }
    }
  }
  tick();
  setInterval(tick, 1000);
})();
