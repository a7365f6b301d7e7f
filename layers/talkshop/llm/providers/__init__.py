"""Provider adapters: one SDK each, all speaking :mod:`talkshop.llm.messages`."""
