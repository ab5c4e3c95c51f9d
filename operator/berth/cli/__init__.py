"""`berth`: the command line, a drop-in for `aws lightsail`'s container service commands."""
