"""Analytics: events folded into metric items, the figures dashboards show, experiments and learning."""
