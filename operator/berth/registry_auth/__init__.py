"""Per-tenant access to the registry of registered images: the logins Berth hands out and the
token service that turns them into the short-lived tokens Distribution verifies."""
