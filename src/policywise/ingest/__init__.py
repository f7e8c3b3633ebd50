"""Turning policy files into documents, chunks and index generations."""
