"""The Berth API: pydantic models of every kind, its limits, and the CRDs generated from them."""
