"""The core of the provisioning service: the domain and its use cases, free of Flask and RQ.

Read it bottom-up (import-linter holds these layers; see pyproject.toml):

* foundations: ``config``, ``db`` (units of work, bulk-SQL helpers), ``sql`` (constructs that
  behave alike on PostgreSQL and SQLite), ``models``, ``errors``, ``runtime`` (the ports: job
  queue, roster source), ``roles``, ``chunking``, ``pagination``, ``observability``;
* ``activity``: the audit log; ``operations``: durable background work;
* ``store``: set-based primitives over users, groups and memberships that never commit;
  ``filters``: the SCIM filter language, parsed and compiled to SQL;
* ``rules``: automatic groups; ``mail``: the email outbox;
* ``services``: use cases on users, groups, memberships, courses, tenants, tokens;
* ``batch``, ``imports``, ``lti``: batch actions, spreadsheet imports, the LTI domain;
* ``permissions``: who may do what, asked by every edge.

The edges beside this package (``api``, ``scim``, ``lti``, ``ui``, ``jobs``) parse a request,
call one use case and render its result; ``server`` wires them together.
"""

__version__ = "0.1.0"
