"""Stores behind the conversation's `Store` port: TinyDB files on disk, and an in-memory twin."""
