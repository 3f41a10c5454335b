"""SCIM 2.0 service provider (RFC 7643, RFC 7644) as a Flask blueprint at /scim/v2."""
