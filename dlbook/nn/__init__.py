"""Sections 1.2-1.9 from the book's equations, NumPy only (module per section: docs/design.md)."""
