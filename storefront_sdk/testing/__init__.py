"""Helpers for testing storefront and apps built on it: factories and a throwaway
PostgreSQL server. Importing this module has no side effects."""
