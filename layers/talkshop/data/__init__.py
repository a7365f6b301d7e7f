"""The data layer: single-table DynamoDB storage for the ontology. Key shapes never leave this package."""
