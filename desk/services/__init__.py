"""Use cases: one function per flow. They own the database transactions. No Qt."""
