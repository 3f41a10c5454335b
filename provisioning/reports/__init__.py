"""Reports: group progress figures, their runs as Operations, and schedules run by the workers."""
