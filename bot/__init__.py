"""Telegram side of licensebot: handlers, presentation, jobs and the command line."""
