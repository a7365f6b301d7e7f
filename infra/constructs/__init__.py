"""One construct per concern of the Talkshop stack."""
