"""Inline keyboards and the callback data they carry."""
