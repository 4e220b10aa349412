// storefront shop pages: show the chosen variant's price (and its flash sale); count down
// to the end of flash sales; copy share links.
(function () {
  "use strict";
  var price = document.getElementById("sf-price");
  var was = document.getElementById("sf-was");
  document.querySelectorAll('input[name="variant_id"][data-price]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (!radio.checked) return;
      if (price) price.textContent = radio.dataset.price;
      if (was) was.textContent = radio.dataset.was || "";
      document.querySelectorAll("[data-flash-of]").forEach(function (box) {
        box.hidden = box.dataset.flashOf !== radio.value;
      });
    });
  });
  // "Ends at 19:00" (the shop's time zone, without script) becomes "Ends in 01:59:59".
  var timers = document.querySelectorAll("time[data-countdown]");
  var pad = function (n) { return (n < 10 ? "0" : "") + n; };
  var tick = function () {
    var now = Date.now();
    timers.forEach(function (time) {
      var left = Math.floor((Date.parse(time.getAttribute("datetime")) - now) / 1000);
      var label = time.parentNode.querySelector("[data-ends-label]");
      if (left <= 0) {
        time.textContent = time.dataset.ended;
        if (label) label.hidden = true;
        return;
      }
      var days = Math.floor(left / 86400);
      var clock = pad(Math.floor((left % 86400) / 3600)) + ":" + pad(Math.floor((left % 3600) / 60)) + ":" + pad(left % 60);
      time.textContent = (days ? days + time.dataset.days + " " : "") + clock;
      if (label) label.textContent = label.dataset.endsLabel;
    });
  };
  if (timers.length) { tick(); window.setInterval(tick, 1000); }
  document.querySelectorAll("[data-copy-button]").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = button.parentNode.querySelector("[data-copy]");
      if (!field) return;
      var done = function () { button.textContent = button.dataset.copied || button.textContent; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
      } else {
        field.select();
        try { document.execCommand("copy"); done(); } catch (e) { /* selected for manual copy */ }
      }
    });
  });
})();
