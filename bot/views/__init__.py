"""Presentation: turn use-case results into message text and inline keyboards.

Texts use Telegram's HTML parse mode, so every value that came from a person
(PO numbers, organisation names) goes through ``html.escape`` here.
"""
