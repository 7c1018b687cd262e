"""Per-attempt proctoring: browser events (service.py) and server-side rules on the vision core's
observations (supervisor.py, pipeline.py, rules.py, recording.py), evidence and its review."""
