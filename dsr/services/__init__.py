"""The verbs of the product. Each takes session, actor and now; flushes, never commits."""
