"""Automatic groups: membership that follows a rule written in the filter language.

``definition`` validates and saves a rule and re-evaluates the users a change touched (inline,
in the caller's transaction); ``membership`` makes a group's members match its rule in
set-based SQL; ``evaluation`` is the full, chunked evaluation as an Operation; ``references``
finds what a rule names (courses, groups, attributes); ``schedule`` starts the periodic one."""
