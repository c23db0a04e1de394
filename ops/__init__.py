"""Operators' commands (never deployed: .funcignore leaves ops/ out of the package)."""
