"""Publishing the events the table records (a transactional outbox) to EventBridge."""
