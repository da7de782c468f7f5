/* Resident pages: send a form only once. (The location button is `data-locate`, in js/wangge.js.) */
(function () {
  "use strict";
  // A slow network tempts a second tap: the server also keeps one demand per page (idempotency key).
  Array.prototype.forEach.call(document.querySelectorAll("form[data-once]"), function (form) {
    form.addEventListener("submit", function () {
      var submit = form.querySelector("button[type=submit]");
      if (form.dataset.sent) { return; }
      form.dataset.sent = "1";
      if (submit) { setTimeout(function () { submit.disabled = true; submit.setAttribute("aria-busy", "true"); }, 0); }
    });
  });
})();
