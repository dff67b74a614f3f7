// Stripe.js on the billing page: the card form (a SetupIntent) and "Confirm your payment"
// (3-D Secure). The page works without this file wherever no card is typed; with Stripe,
// a card can only be typed into Stripe's own field.
(function () {
  "use strict";

  function say(form, text) {
    form.querySelector("[role=status]").textContent = text;
  }

  const cardForm = document.getElementById("stripe-card");
  if (cardForm && window.Stripe) {
    const stripe = window.Stripe(cardForm.dataset.key);
    const card = stripe.elements().create("card");
    card.mount("#card-element");
    cardForm.addEventListener("submit", async function (event) {
      if (cardForm.elements.setup_ref.value) return; // confirmed: the form posts it
      event.preventDefault();
      say(cardForm, cardForm.dataset.saving);
      const started = await fetch("/billing/card/setup", {
        method: "POST", body: new FormData(cardForm), credentials: "same-origin",
      });
      const setup = await started.json().catch(function () { return {}; });
      if (!started.ok) { say(cardForm, setup.detail || cardForm.dataset.failed); return; }
      const result = await stripe.confirmCardSetup(setup.client_secret, {
        payment_method: { card: card },
      });
      if (result.error) { say(cardForm, result.error.message || cardForm.dataset.failed); return; }
      cardForm.elements.setup_ref.value = setup.setup_ref;
      cardForm.submit();
    });
  }

  const payForm = document.getElementById("stripe-confirm");
  if (payForm && window.Stripe) {
    const stripe = window.Stripe(payForm.dataset.key);
    payForm.addEventListener("submit", async function (event) {
      if (payForm.dataset.done) return;
      event.preventDefault();
      say(payForm, payForm.dataset.saving);
      const result = await stripe.confirmCardPayment(payForm.dataset.secret);
      if (result.error) { say(payForm, result.error.message || payForm.dataset.failed); return; }
      payForm.dataset.done = "yes";
      payForm.submit();
    });
  }
})();
