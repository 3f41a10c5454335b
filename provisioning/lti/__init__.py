"""The LTI domain: what LTI 1.3 launches and rosters do to our data.

``registrations`` (platforms and deployments of a tenant), ``keys`` and ``jwk`` (the tool's
signing keys), ``launch`` (a login's nonce, the user, course and enrollment of a launch),
``roster`` (NRPS roster syncs as Operations), ``people`` (who an LTI user is here),
``dynamic_registration``; ``nrps`` is the HTTP client the Runtime's roster port is wired to.
The protocol itself (OIDC login, id_token validation, pages) is the ``lti`` edge's."""
