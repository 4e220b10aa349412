"""Handing orders to suppliers: webhook delivery and what it records."""
