"""MessageBudget: a burst, then the sustained rate; refusals forgiven at that rate; a flood."""

from __future__ import annotations

from protolearn.api.message_budget import MessageBudget, Verdict


def budget() -> MessageBudget:
    return MessageBudget(burst=4, per_second=2.0, flood_after=10, now=100.0)


def test_a_burst_passes_then_messages_are_refused_until_time_gives_more() -> None:
    messages = budget()
    assert [messages.spend(100.0) for _ in range(6)] == [Verdict.ACCEPTED] * 4 + [Verdict.REFUSED] * 2
    assert messages.spend(100.5) is Verdict.ACCEPTED  # half a second: one more
    assert messages.spend(100.5) is Verdict.REFUSED
    assert [messages.spend(110.0) for _ in range(5)] == [Verdict.ACCEPTED] * 4 + [Verdict.REFUSED]


def test_a_steady_client_at_the_rate_is_never_refused() -> None:
    messages = budget()
    assert {messages.spend(100.0 + n * 0.5) for n in range(1000)} == {Verdict.ACCEPTED}


def test_a_client_that_keeps_sending_past_its_budget_is_a_flood() -> None:
    messages = budget()
    verdicts = [messages.spend(100.0) for _ in range(4 + 11)]
    assert verdicts[4:] == [Verdict.REFUSED] * 10 + [Verdict.FLOODING]


def test_refusals_are_forgiven_for_a_client_that_slows_down() -> None:
    messages = budget()
    for _ in range(4 + 10):
        assert messages.spend(100.0) is not Verdict.FLOODING
    # Five seconds later ten refusals are forgiven: another excess is refused, not a flood.
    assert [messages.spend(105.0) for _ in range(5)] == [Verdict.ACCEPTED] * 4 + [Verdict.REFUSED]


def test_a_clock_that_steps_back_gives_nothing() -> None:
    messages = budget()
    for _ in range(4):
        messages.spend(100.0)
    assert messages.spend(90.0) is Verdict.REFUSED
    assert messages.spend(100.4) is Verdict.REFUSED  # no credit for the step back
    assert messages.spend(100.5) is Verdict.ACCEPTED
