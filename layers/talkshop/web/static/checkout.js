// The checkout's enhancements. "Complete purchase" posts with fetch, its button disabled while the
// purchase runs (one click, one purchase; the form's idempotency key makes a retry safe too), then
// goes where the order is confirmed. Inside the chat's dialog (a panel loaded with ?fragment=1) the
// quantity and code forms refresh the panel in place. Without JavaScript every form posts and
// redirects on its own.
//
// The chat loads this module for its dialog: enhanceCheckout(panel, { onPlaced(location) {...} }).

const PANEL = "[data-checkout-panel]";
const FORM_HEADERS = { "Content-Type": "application/x-www-form-urlencoded" };
const STYLESHEET = "/static/checkout.css";

function ensureStyles() {
  // A panel parsed into another page (the chat's dialog) loses the fragment's own <link> to the
  // parser's <head>: add the stylesheet once.
  if (document.querySelector(`link[href="${STYLESHEET}"]`)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = STYLESHEET;
  document.head.append(link);
}

function announce(panel, message) {
  const status = panel.querySelector("[data-checkout-status]");
  if (status) status.textContent = message;
}

function showError(panel, message) {
  let alert = panel.querySelector('[role="alert"]');
  if (!alert) {
    alert = document.createElement("p");
    alert.className = "notice error";
    alert.setAttribute("role", "alert");
    panel.querySelector("[data-checkout-status]").after(alert);
  }
  alert.textContent = message;
}

function formBody(form) {
  return new URLSearchParams(new FormData(form));
}

function goTo(location) {
  const target = new URL(location, window.location.href);
  const here = window.location;
  window.location.assign(target.href);
  if (target.pathname === here.pathname && target.search === here.search) {
    window.location.reload(); // only the #order-… anchor differs: load the chat with its new message
  }
}

async function completePurchase(panel, form, options) {
  const button = form.querySelector('button[type="submit"]');
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = "Placing your order…";
  announce(panel, "Placing your order…");
  let placed = false;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: { ...FORM_HEADERS, Accept: "application/json" },
      body: formBody(form),
    });
    const answer = await response.json().catch(() => null);
    if (response.ok && answer && answer.location) {
      placed = true;
      announce(panel, "Order placed.");
      (options.onPlaced || goTo)(answer.location);
      return;
    }
    const message = answer?.error?.message || `The purchase did not go through (error ${response.status}).`;
    if (response.status === 409) {
      // Stock or prices changed: show the cart as it is now, with the reason.
      panel = (await refresh(panel, panel.dataset.fragment !== undefined, options)) || panel;
    }
    showError(panel, message);
  } catch {
    showError(panel, "The shop could not be reached. Try again: you will not be charged twice.");
  } finally {
    if (!placed && button.isConnected) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      button.textContent = label;
    }
  }
}

async function replacePanel(panel, response, options) {
  const html = await response.text();
  const next = new DOMParser().parseFromString(html, "text/html").querySelector(PANEL);
  if (!next) return null;
  const adopted = document.importNode(next, true);
  panel.replaceWith(adopted);
  enhanceCheckout(adopted, options);
  return adopted;
}

async function refresh(panel, fragment, options) {
  const address = `/checkout/${encodeURIComponent(panel.dataset.cartId)}${fragment ? "?fragment=1" : ""}`;
  const response = await fetch(address, { credentials: "same-origin" });
  return replacePanel(panel, response, options);
}

async function submitInPlace(panel, form, options) {
  const selector = `.${form.classList[0]} input:not([type="hidden"])`;
  announce(panel, "Updating…");
  try {
    const response = await fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: FORM_HEADERS,
      body: formBody(form),
    });
    const updated = await replacePanel(panel, response, options);
    if (!updated) {
      showError(panel, `That did not work (error ${response.status}).`);
      return;
    }
    announce(updated, updated.querySelector('[role="alert"]') ? "" : "Checkout updated.");
    updated.querySelector(selector)?.focus();
  } catch {
    showError(panel, "The shop could not be reached. Try again.");
  }
}

export function enhanceCheckout(panel, options = {}) {
  ensureStyles();
  const purchase = panel.querySelector("[data-purchase-form]");
  purchase?.addEventListener("submit", (event) => {
    event.preventDefault();
    completePurchase(panel, purchase, options);
  });
  if (panel.dataset.fragment === undefined) return; // a whole page: the forms reload it
  for (const form of panel.querySelectorAll("[data-checkout-form]")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submitInPlace(panel, form, options);
    });
  }
}

export function start() {
  const panel = document.querySelector(PANEL);
  if (panel) enhanceCheckout(panel);
}
