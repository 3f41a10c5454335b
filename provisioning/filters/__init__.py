"""The filter language: SCIM filters (RFC 7644 §3.4.2.2) over users and groups, compiled to SQL.

SCIM searches and automatic-group rules speak it alike: ``parser`` reads the text into a
positioned tree, ``attributes`` says which names exist and the column each maps to, and
``translate`` turns the tree into one SQL condition (and a sortBy into an ORDER BY key)."""
