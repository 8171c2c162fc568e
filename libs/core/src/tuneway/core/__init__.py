"""Shared plumbing of tuneway services."""
