"""Shared test support (no tests here): factories, sign-in helpers, servers, the test LTI platform.

Test modules import from here (and take fixtures from the conftest.py files); no test module
imports another test module.
"""
