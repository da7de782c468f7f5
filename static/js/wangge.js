/* Page behaviour every template shares, wired by data attributes: the Content-Security-Policy allows
   no inline script (no onclick=, no javascript: links, no hx-on), so each small action lives here.
     data-autosubmit           a select or checkbox that submits its form when changed
     data-print                a link or button that prints the page
     data-back                 a link back to the previous page
     data-select-all="name"    a checkbox that (un)checks every input[name=name]
     data-go="param"           a select that opens ?param=<value> (with its data-keep query string)
     data-reset-on-success     an htmx form emptied after a successful request */
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (!(el instanceof HTMLElement)) return;
    if (el.hasAttribute("data-autosubmit") && el.form) {
      if (el.form.requestSubmit) el.form.requestSubmit(); else el.form.submit();
    } else if (el.hasAttribute("data-select-all")) {
      var name = el.getAttribute("data-select-all");
      document.querySelectorAll("input[name='" + name + "']").forEach(function (box) { box.checked = el.checked; });
    } else if (el.hasAttribute("data-go") && el.value) {
      var query = new URLSearchParams(el.getAttribute("data-keep") || "");
      query.set(el.getAttribute("data-go"), el.value);
      window.location.search = "?" + query.toString();
    }
  });
  document.addEventListener("click", function (event) {
    var el = event.target instanceof Element ? event.target.closest("[data-print], [data-back]") : null;
    if (!el) return;
    event.preventDefault();
    if (el.hasAttribute("data-print")) window.print(); else window.history.back();
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var el = event.target;
    if (el instanceof HTMLFormElement && el.hasAttribute("data-reset-on-success") && event.detail.successful) el.reset();
  });
})();
