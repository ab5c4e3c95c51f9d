"""Images without Docker: read them from OCI layouts, `docker save` archives or another registry,
and copy them into a registry with the OCI distribution API. Used by the `berth` CLI."""
