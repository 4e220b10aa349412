"""Distributors (the small b) and their white-label shops over the shared catalogue: accounts,
curation, listings, the page cache and share posters."""
