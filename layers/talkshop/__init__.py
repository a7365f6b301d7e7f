"""Talkshop: conversational commerce domain (ontology, catalog, data layer, API helpers, local runtime)."""
