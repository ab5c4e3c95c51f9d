"""Pure builders: (service, version, power, settings) -> the manifests a service owns."""
