"""Every write of the shop connectors: shops.services.stores (connect, change, test a store),
shops.services.orders (an order in: purchase once, lines, refunds, cancellation, customer and
consent), shops.services.deliveries (a webhook delivery stored, then processed), and
shops.services.sync (backfill and poll jobs)."""
