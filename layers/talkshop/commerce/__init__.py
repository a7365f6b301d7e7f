"""Commerce: carts, checkout, discounts, payments, orders and webhooks."""
