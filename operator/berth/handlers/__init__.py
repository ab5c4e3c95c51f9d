"""Wiring: which events queue which service, and the hooks by which kopf hosts the process."""
