"""Berth: Lightsail-style container services on any Kubernetes cluster."""
