"""The desk's application package: domain, services, adapters and entry points."""
