"""Test package, so test files can import shared helpers as tests.<module>."""
