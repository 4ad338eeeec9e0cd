"""Rendering: records and domain results in, text and keyboards out."""
