"""The experts' web console (templates and static files live beside its routes)."""

from shared.entrypoints.console.routes import bp

__all__ = ["bp"]
