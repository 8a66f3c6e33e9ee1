"""Shared fixtures; the fault server lives in tests/faultserver.py."""

from tests.faultserver import fault_server

__all__ = ["fault_server"]
