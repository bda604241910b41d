"""Measuring the product: retrieval, answers and refusals on QA sets and conversations."""
