"""The Lightsail API endpoint: AWS JSON 1.1 over the same custom resources as kubectl."""
