"""The product catalog: creators' products with rich metadata for AI."""
