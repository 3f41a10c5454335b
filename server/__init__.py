"""The composition root: the app factory (``app``), the ``provisioning`` command (``cli``),
serving under gunicorn (``serving``) and the health probes.  It alone imports every edge."""
