"""TP Capital appliance: Telegram signals gateway, signals API and workspace service."""

__version__ = "0.1.0"
