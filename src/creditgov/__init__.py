"""CreditGov (基层信用智治平台): grassroots credit governance."""

__version__ = "0.1.0"
