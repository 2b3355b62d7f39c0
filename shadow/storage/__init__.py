"""Storage floor: the ClickHouse/chDB connection, versioned migrations and hourly rollups.

Both the write stage (``sink``) and the read side (``report``) stand on it.
"""
