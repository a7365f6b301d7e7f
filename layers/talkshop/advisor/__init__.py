"""The shop advisor: what a shopper wants, read from the conversation, and the advice built on it."""
