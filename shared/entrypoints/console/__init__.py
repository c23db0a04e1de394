"""The experts' web console (templates and static files live beside its routes)."""

from shared.entrypoints.console.admin import bp as admin_bp
from shared.entrypoints.console.board import bp as board_bp
from shared.entrypoints.console.routes import bp

__all__ = ["admin_bp", "board_bp", "bp"]
