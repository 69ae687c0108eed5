"""Licensing rules and use cases of licensebot, in plain Python.

Nothing here imports Telegram or a database library: use cases receive a
unit of work (see ``core.ports``) and the current time as arguments.
"""
