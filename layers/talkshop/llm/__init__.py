"""LLM mode of the advisor: providers behind one interface, configuration, the tool loop and its limits.

See docs/llm.md. Nothing here is imported unless an LLM provider is configured.
"""
