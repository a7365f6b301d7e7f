"""AWS CDK app of Talkshop: ``infra.app`` is the entry point, ``infra.stack.TalkshopStack`` the stack."""
