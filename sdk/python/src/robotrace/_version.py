"""The SDK version, sent as the User-Agent and X-RoboTrace-SDK-Version headers."""

__version__ = "0.4.0"
