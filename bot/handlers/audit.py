"""Placeholder: handlers of this module are being written."""

from __future__ import annotations

from telegram.ext import BaseHandler


def build_audit_handlers() -> list[BaseHandler]:
    return []
