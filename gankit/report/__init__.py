"""HTML pages: the blocks (html.py) that run reports, comparisons and study reports are built from."""
