from __future__ import annotations

from protolearn.proctoring.suspicion import suspicion_score
from protolearn.store.violations import Severity


def test_weights_order_attempts_by_severity() -> None:
    assert suspicion_score([]) == 0
    assert suspicion_score([Severity.CRITICAL]) == suspicion_score([Severity.LOW] * 10)
    assert suspicion_score([Severity.MEDIUM, Severity.HIGH]) == 9
