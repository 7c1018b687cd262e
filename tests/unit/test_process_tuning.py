"""The serving process's garbage collector, settled once the app is up."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from protolearn.process_tuning import YOUNG_THRESHOLD


def _in_fresh_process(code: str) -> str:
    result = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_settling_freezes_what_exists_and_collects_the_young_generation_less_often() -> None:
    out = _in_fresh_process(
        """
        import gc
        from protolearn.process_tuning import settle_garbage_collector
        before = gc.get_threshold()
        settle_garbage_collector()
        after = gc.get_threshold()
        print(gc.get_freeze_count() > 1000, before[1:] == after[1:], after[0])
        """
    )
    assert out == f"True True {YOUNG_THRESHOLD}"


def test_cyclic_garbage_made_afterwards_is_still_collected() -> None:
    out = _in_fresh_process(
        """
        import gc, weakref
        from protolearn.process_tuning import settle_garbage_collector
        settle_garbage_collector()

        class Node:
            pass

        a, b = Node(), Node()
        a.other, b.other = b, a
        gone = weakref.ref(a)
        del a, b
        kept = [[] for _ in range(25_000)]  # tracked allocations past the young threshold
        print(gone() is None)
        """
    )
    assert out == "True"
