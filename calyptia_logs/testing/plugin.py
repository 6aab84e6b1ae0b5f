"""pytest plugin (filled in with the fake server)."""
