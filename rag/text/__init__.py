"""Text in, text out: folding, dates, the kinds of fact a question asks, terms, cleaning, file formats."""
