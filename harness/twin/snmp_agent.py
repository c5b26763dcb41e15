"""Placeholder: replaced by the snmp_agent service implementation."""
