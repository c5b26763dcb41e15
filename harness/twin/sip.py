"""Placeholder: replaced by the sip service implementation."""
