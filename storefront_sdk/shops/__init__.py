"""Distributors (the small b) and their white-label shops over the shared catalogue."""
