"""Connectors to the systems of the data inventory: sql (queried), manual (tasks for staff), webhook (signed jobs)."""
