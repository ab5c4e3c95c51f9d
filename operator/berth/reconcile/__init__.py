"""Reconcilers: from the store's objects, decide the writes (plan) and send them (apply)."""
