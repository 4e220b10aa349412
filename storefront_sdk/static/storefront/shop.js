// storefront shop pages: show the chosen variant's price; copy share links.
(function () {
  "use strict";
  var price = document.getElementById("sf-price");
  document.querySelectorAll('input[name="variant_id"][data-price]').forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (radio.checked && price) price.textContent = radio.dataset.price;
    });
  });
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
