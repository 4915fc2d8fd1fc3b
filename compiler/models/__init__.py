"""Pydantic v2 models of planc's documents: front-matter, parsed kinds, status, clusters."""
