"""Tables, engine and migrations. Importing this package registers every table on ``Base.metadata``."""

from protolearn.store import attempts, audit, materials, tests, users, violations
from protolearn.store.base import Base

__all__ = ("Base", "attempts", "audit", "materials", "tests", "users", "violations")
