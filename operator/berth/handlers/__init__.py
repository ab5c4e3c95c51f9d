"""kopf wiring: watches feed a cache and a work queue; one reconcile per service does the rest."""
