"""Placeholder: replaced by the ssh service implementation."""
