// The storefront's one enhancement: a Buy now button is disabled once its form is sent, so a double
// click opens one cart, not two. Everything else works as plain links and forms.

export function start() {
  for (const form of document.querySelectorAll(".buy-form")) {
    form.addEventListener("submit", () => {
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true; // the form is already being sent; the button carries no value
      button.setAttribute("aria-busy", "true");
    });
  }
}
