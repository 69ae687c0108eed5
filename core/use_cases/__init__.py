"""Use cases: each loads what it needs, checks the rules, changes and commits.

Every function takes its unit of work and the current time as keyword
arguments; nothing here reads the clock or keeps state between calls.
"""
