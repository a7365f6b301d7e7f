// Applies the theme the shopper chose (stored in localStorage) before the page paints.
// Without a choice the page follows the system (prefers-color-scheme in app.css).
try {
  const saved = localStorage.getItem("talkshop-theme");
  if (saved === "dark" || saved === "light") {
    document.documentElement.dataset.theme = saved;
  }
} catch {
  // Storage may be blocked (private mode): the system theme applies.
}
