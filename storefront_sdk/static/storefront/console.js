// storefront console: copy buttons and the live preview of the shop's theme.
// Served from the console's own static folder (CSP: script-src 'self'); no inline script.
(function () {
  "use strict";

  // Copy: the clipboard API where the page may use it, else select the text so the
  // distributor can copy it by hand (and try the old execCommand).
  document.querySelectorAll("[data-copy-button]").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = button.parentNode.querySelector("[data-copy]");
      if (!field) return;
      var label = button.textContent;
      var done = function () {
        button.textContent = button.dataset.copied || label;
        window.setTimeout(function () { button.textContent = label; }, 2000);
      };
      var fallback = function () {
        field.focus();
        field.select();
        try { if (document.execCommand("copy")) done(); } catch (e) { /* left selected */ }
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, fallback);
      } else {
        fallback();
      }
    });
  });

  // Live preview: the phone mock follows the settings form as the distributor types.
  var preview = document.getElementById("preview");
  if (!preview) return;
  var targets = {};
  preview.querySelectorAll("[data-preview-target]").forEach(function (el) {
    targets[el.dataset.previewTarget] = el;
  });
  var colour = /^#[0-9a-fA-F]{6}$/;
  document.querySelectorAll("[data-preview]").forEach(function (input) {
    var update = function () {
      var kind = input.dataset.preview;
      if (kind === "color") {
        if (colour.test(input.value)) preview.style.setProperty("--preview-color", input.value);
      } else if (targets[kind]) {
        targets[kind].textContent = input.value; // text, never HTML
      }
    };
    input.addEventListener("input", update);
    input.addEventListener("change", update);
  });
})();
