"""Evaluation-only tools of the foley model (metrics that need optional packages)."""
