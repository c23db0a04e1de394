"""Typed repositories over the DocumentStore port: documents in, dataclasses out."""
