"""Web adapters: blueprints that validate input, call services and own transactions."""
