"""What the REST API is made of: the route table shared by CDK and the local runtime, and handler helpers."""
