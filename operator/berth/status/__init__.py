"""Pure functions from a spec and observed objects to Lightsail states and metav1 conditions."""
