"""Loaders for official code-set releases (CMS HCPCS, ICD-10-CM, place of service).

Each module reads one kind of file into plain records; `releases` writes them in bulk, with
history, inside one transaction, and records the release. Management commands stay thin.
"""
