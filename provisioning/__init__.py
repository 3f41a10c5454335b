"""Provisioning service for learning platforms: the domain, its services and the app factory."""

__version__ = "0.1.0"
