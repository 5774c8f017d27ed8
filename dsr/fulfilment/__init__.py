"""Fulfilling requests against the data inventory: export bundles now; erasure, correction and consent later."""
