"""Web pages and RSS/Atom feeds as a way in: safe fetching, article extraction, feeds and their state on an index."""
