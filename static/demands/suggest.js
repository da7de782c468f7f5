/* Staff intake: "use this category" copies the triage suggestion into the category list. */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-use-category]") : null;
    if (!button) { return; }
    var select = button.form ? button.form.querySelector("select[name=category]") : document.querySelector("select[name=category]");
    if (select) { select.value = button.dataset.useCategory; select.dispatchEvent(new Event("change", { bubbles: true })); }
  });
})();
