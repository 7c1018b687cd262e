"""The suspicion score of an attempt.

    suspicion = sum over violations not dismissed by an auditor of SEVERITY_WEIGHTS[severity]

so one critical violation weighs as much as ten low ones. The score only orders attempts for
review ("most suspicious first"); it decides nothing by itself.
"""

from __future__ import annotations

from collections.abc import Iterable

from protolearn.store.violations import Severity

__all__ = ("SEVERITY_WEIGHTS", "suspicion_score")

SEVERITY_WEIGHTS: dict[Severity, float] = {
    Severity.LOW: 1.0,
    Severity.MEDIUM: 3.0,
    Severity.HIGH: 6.0,
    Severity.CRITICAL: 10.0,
}


def suspicion_score(severities: Iterable[Severity]) -> float:
    return sum(SEVERITY_WEIGHTS[severity] for severity in severities)
