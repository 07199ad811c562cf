"""Vitrina: inventory, catalog and provenance engine for jewelers."""
