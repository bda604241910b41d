"""Vectors: the embedder and the offline model it is built from."""
