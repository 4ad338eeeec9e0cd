"""Pictures and files made from a workspace's records: partner and portfolio PNGs, exports, personal data."""
