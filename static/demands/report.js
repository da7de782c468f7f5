/* Resident pages: fill the place from the phone's location, and send a form only once. */
(function () {
  "use strict";
  var button = document.getElementById("locate");
  var status = document.getElementById("locate-status");
  if (button && status) {
    button.addEventListener("click", function () {
      if (!navigator.geolocation) {
        status.textContent = button.dataset.unsupported || "此浏览器无法定位 / Location is not available";
        return;
      }
      status.textContent = "正在定位… / Locating…";
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          document.getElementById("lat").value = pos.coords.latitude.toFixed(6);
          document.getElementById("lng").value = pos.coords.longitude.toFixed(6);
          var datum = document.getElementById("datum");
          if (datum) datum.value = "wgs84"; // the browser's geolocation is GPS (WGS-84)
          status.textContent = "已获取位置（约 " + Math.round(pos.coords.accuracy) + " 米）/ Location received";
          status.dataset.located = "1";
        },
        function () {
          status.textContent = "无法获取位置，请从列表中选择 / Could not get your location; please choose from the list";
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }
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
