// Stripe's Payment Element on the payment page (the only page that loads Stripe.js).
// The order becomes paid only when the server hears from Stripe, never from this script.
(function () {
  "use strict";
  var form = document.getElementById("sf-pay");
  if (!form || typeof Stripe === "undefined") return;
  var stripe = Stripe(form.dataset.key);
  var elements = stripe.elements({ clientSecret: form.dataset.secret });
  elements.create("payment").mount("#sf-payment-element");
  var error = document.getElementById("sf-pay-error");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button");
    button.disabled = true;
    stripe.confirmPayment({ elements: elements, confirmParams: { return_url: form.dataset.return } })
      .then(function (result) {
        if (result.error) {
          error.textContent = result.error.message;
          error.hidden = false;
          button.disabled = false;
        }
      });
  });
})();
