/* Page behaviour every template shares, wired by data attributes: the Content-Security-Policy allows
   no inline script (no onclick=, no javascript: links, no hx-on), so each small action lives here.
     data-autosubmit           a select or checkbox that submits its form when changed
     data-print                a link or button that prints the page
     data-back                 a link back to the previous page
     data-select-all="name"    a checkbox that (un)checks every input[name=name]
     data-go="param"           a select that opens ?param=<value> (with its data-keep query string)
     data-reset-on-success     an htmx form emptied after a successful request
     data-locate="status-id"   a button that puts the device's position into its form's lat and lng (and
                               "wgs84" into its datum, if it has one; data-done / data-failed: the words
                               shown in the status element) */
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
  function locate(button) {
    var form = button.form, status = document.getElementById(button.getAttribute("data-locate"));
    var say = function (attr) { if (status) status.textContent = button.getAttribute(attr) || ""; };
    if (!form || !navigator.geolocation) { say("data-failed"); return; }
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.elements.namedItem("lat").value = pos.coords.latitude.toFixed(6);
      form.elements.namedItem("lng").value = pos.coords.longitude.toFixed(6);
      var datum = form.elements.namedItem("datum");
      if (datum) datum.value = "wgs84"; // the browser's geolocation is GPS (WGS-84)
      say("data-done");
    }, function () { say("data-failed"); }, { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
  }
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-locate]") : null;
    if (target) { event.preventDefault(); locate(target); return; }
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
