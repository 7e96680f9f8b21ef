"""Failed sign-ins, counted by the account and by the account from one client.

Two limits, each over a window of LOGIN_FAILURE_WINDOW_SECONDS:

- one client (an IP address) failing LOGIN_FAILURES_PER_CLIENT times on one account is
  refused for that account for the rest of the window: guessing from one place stops;
- an account failed LOGIN_FAILURES_PER_ACCOUNT times from anywhere is refused for the
  rest of the window: guessing spread over many addresses stops too.

Nothing is counted per address alone, so someone failing on their own account behind a
shared NAT never refuses another person's correct password. Counters live in Django's
cache (shared by every process when the cache is).
"""

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

from services.exceptions import RateLimited


class TooManyFailedSignIns(RateLimited):
    message = "Too many failed sign-ins for this account; try again later."


@dataclass(frozen=True)
class _Counter:
    key: str
    limit: int


def _counters(*, email: str, client: str) -> list[_Counter]:
    account = email.strip().lower()
    return [
        _Counter(f"sign-in-failures:account:{account}", settings.LOGIN_FAILURES_PER_ACCOUNT),
        _Counter(f"sign-in-failures:client:{client}:{account}", settings.LOGIN_FAILURES_PER_CLIENT),
    ]


def sign_in_allowed_or_raise(*, email: str, client: str) -> None:
    """Raise TooManyFailedSignIns (with the seconds to wait) while either limit is reached."""
    for counter in _counters(email=email, client=client):
        if (cache.get(counter.key) or 0) >= counter.limit:
            started = cache.get(f"{counter.key}:since") or time.time()
            window = settings.LOGIN_FAILURE_WINDOW_SECONDS
            raise TooManyFailedSignIns(retry_after=max(1, int(started + window - time.time()) + 1))


def sign_in_failed(*, email: str, client: str) -> None:
    window = settings.LOGIN_FAILURE_WINDOW_SECONDS
    for counter in _counters(email=email, client=client):
        if cache.add(counter.key, 0, timeout=window):  # the first failure opens the window
            cache.set(f"{counter.key}:since", time.time(), timeout=window)
        try:
            cache.incr(counter.key)
        except ValueError:  # expired between add and incr: a new window
            cache.set(counter.key, 1, timeout=window)


def sign_in_succeeded(*, email: str, client: str) -> None:
    """The client knew the password: its own failures on this account are forgiven."""
    _, client_counter = _counters(email=email, client=client)
    cache.delete_many([client_counter.key, f"{client_counter.key}:since"])
