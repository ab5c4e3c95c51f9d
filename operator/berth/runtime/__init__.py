"""Berth's controller runtime: informers fill a store, changes feed a work queue. No Lightsail here."""
