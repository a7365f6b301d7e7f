"""The page routes of the web function, one Powertools Router per area (chat, store, checkout,
history). Each route parses the form or query, calls the same services the JSON API calls, and
renders a template: the thin-handler shape, split by area so each stays small."""
