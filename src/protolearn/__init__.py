"""ProtoLearn: an exam platform with trusted, server-side proctoring."""

__version__ = "0.1.0"
