"""Loaders for payer-side releases: Medicare fee schedule RVUs and Medicare Coverage Database metadata.

They share the release machinery of `codes.importers` (one transaction, bulk writes with history,
the release row with its counts).
"""
