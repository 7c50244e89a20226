"""newsset: Chinese local-newspaper pages to a clean, versioned, validated dataset."""

__version__ = "0.1.0"
