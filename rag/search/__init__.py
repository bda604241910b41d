"""A question analysed once, and the hybrid search over the store."""
