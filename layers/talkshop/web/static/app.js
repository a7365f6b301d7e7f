// The entry module of every page: the theme toggle, then the page's own module (data-page on
// <body>). Pages work without JavaScript; these modules only enhance them.

const THEME_KEY = "talkshop-theme";

function currentTheme() {
  const chosen = document.documentElement.dataset.theme;
  if (chosen) return chosen;
  return window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function setUpThemeToggle() {
  const button = document.querySelector("[data-theme-toggle]");
  if (!button) return;
  const show = () => {
    const dark = currentTheme() === "dark";
    button.setAttribute("aria-pressed", String(dark));
  };
  button.hidden = false;
  show();
  button.addEventListener("click", () => {
    const next = currentTheme() === "dark" ? "light" : "dark";
    document.documentElement.dataset.theme = next;
    try {
      localStorage.setItem(THEME_KEY, next);
    } catch {
      // The choice lasts for this page only.
    }
    show();
  });
}

const PAGE_MODULES = {
  chat: "/static/chat.js",
  store: "/static/store.js",
  checkout: "/static/checkout.js",
  history: "/static/history.js",
};

setUpThemeToggle();
const module = PAGE_MODULES[document.body.dataset.page];
if (module) {
  import(module).then((page) => page.start());
}
