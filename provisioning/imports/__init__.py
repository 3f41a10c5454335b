"""CSV, TXT and XLSX imports of group members, user/group batches and users.

reading (bytes -> rows) -> formats (which columns mean what) -> validate (rows -> staged
entries) -> staging (bulk insert) -> preview (summary, stored) -> edits (fix before commit)
-> apply (the background Operation, chunk by chunk) -> report (what happened, as CSV).
"""
