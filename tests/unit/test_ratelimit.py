import itertools

import pytest

from notifications.ratelimit import RateLimited, reserve

pytestmark = pytest.mark.django_db


def test_one_chat_gets_consecutive_slots_one_interval_apart():
    waits = [reserve(streams=[("chat:1", 1.0)], max_wait=10) for _ in range(4)]
    assert waits[0] == pytest.approx(0, abs=0.05)
    for earlier, later in itertools.pairwise(waits):
        assert later - earlier == pytest.approx(1.0, abs=0.05)


def test_a_slot_too_far_away_is_refused_and_not_reserved():
    for _ in range(3):
        reserve(streams=[("chat:1", 1.0)], max_wait=10)
    with pytest.raises(RateLimited) as caught:
        reserve(streams=[("chat:1", 1.0)], max_wait=1.5)
    assert caught.value.retry_in == pytest.approx(3.0, abs=0.05)
    # the refusal reserved nothing: the next slot is still 3 s away
    assert reserve(streams=[("chat:1", 1.0)], max_wait=10) == pytest.approx(3.0, abs=0.05)


def test_the_global_stream_spaces_out_different_chats():
    waits = [reserve(streams=[("bot", 0.1), (f"chat:{n}", 1.0)], max_wait=10) for n in range(5)]
    for earlier, later in itertools.pairwise(waits):
        assert later - earlier == pytest.approx(0.1, abs=0.03)


def test_a_busy_chat_does_not_use_up_the_global_stream_early():
    reserve(streams=[("bot", 0.1), ("chat:1", 1.0)], max_wait=10)
    second_for_same_chat = reserve(streams=[("bot", 0.1), ("chat:1", 1.0)], max_wait=10)
    other_chat = reserve(streams=[("bot", 0.1), ("chat:2", 1.0)], max_wait=10)
    assert second_for_same_chat == pytest.approx(1.0, abs=0.05)
    # conservative: the bot's slot was taken at the busy chat's send time, so no second ever holds too many
    assert other_chat == pytest.approx(1.1, abs=0.05)
