"""The skloss version (a leaf module: the package and saved models read it)."""

__version__ = "0.1.0"
