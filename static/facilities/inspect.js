// The phone inspection page: "all passed" in one tap, and the position attached when the phone allows it.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.inspect");
    if (!form) return;
    var allPass = form.querySelector("[data-all-pass]");
    if (allPass) {
      allPass.addEventListener("click", function () {
        form.querySelectorAll('input[type=radio][value=pass]').forEach(function (radio) {
          var group = form.querySelectorAll('input[name="' + radio.name + '"]:checked');
          if (!group.length) radio.checked = true; // never overrides an item already marked failed
        });
      });
    }
    if (navigator.geolocation && window.isSecureContext) {
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          form.querySelector("input[name=lat]").value = pos.coords.latitude.toFixed(7);
          form.querySelector("input[name=lng]").value = pos.coords.longitude.toFixed(7);
        },
        function () {},
        { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 }
      );
    }
  });
})();
