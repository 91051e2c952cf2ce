"""Importing this package registers every adapter (each module applies @register)."""
