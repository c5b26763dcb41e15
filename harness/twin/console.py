"""Placeholder: replaced by the console service implementation."""
