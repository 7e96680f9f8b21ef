"""Telegram and e-mail delivery by a real worker on the real `notifications` queue, against
a local Bot API server and a real SMTP server: retries, permanent failures, alerts, rate limits."""

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from notifications.models import Audience, Channel, Event, Notification, NotificationStatus
from orders.models import Order
from pro_platform.celery import app
from services.accounts import customer_profile_update
from services.orders import OrderLine, order_create
from testing import servers
from testing.servers import ScriptedReply, wait_until
from tests.factories import ProductFactory, SellerFactory, UserFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

MANAGERS_CHAT = "-1000"
GLOBAL_PER_SECOND = 10  # lower than Telegram's 30 so a short test can see the limit


@dataclass
class Stack:
    bot: servers.TelegramServer
    mailbox: servers.SmtpSink
    worker: servers.WorkerProcess


@pytest.fixture(scope="module")
def stack(rabbitmq_vhost: str, django_db_setup: None) -> Iterator[Stack]:
    servers.purge_queues()
    with (
        servers.telegram_server(max_per_second=GLOBAL_PER_SECOND, chat_interval=1.0) as bot,
        servers.smtp_server() as (mailbox, smtp_port),
    ):
        worker = servers.WorkerProcess(
            "notifications",
            concurrency=4,
            extra_env={
                "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
                "DJANGO_ADMINS": "ops@example.com",
                "TELEGRAM_BOT_TOKEN": "123:test",
                "TELEGRAM_API_BASE_URL": bot.base_url,
                "TELEGRAM_MANAGERS_CHAT_ID": MANAGERS_CHAT,
                "TELEGRAM_TIMEOUT_SECONDS": "1",
                "TELEGRAM_MAX_MESSAGES_PER_SECOND": str(GLOBAL_PER_SECOND),
                "NOTIFICATION_RETRY_BACKOFF_SECONDS": "1",
                "NOTIFICATION_RETRY_BACKOFF_MAX_SECONDS": "1",
                "NOTIFICATION_ALERT_BURST": "2",
                "NOTIFICATION_ALERT_WINDOW_SECONDS": "3",
            },
        ).start()
        try:
            yield Stack(bot, mailbox, worker)
        finally:
            worker.stop()


@pytest.fixture(autouse=True)
def telegram_on(settings):
    settings.TELEGRAM_BOT_TOKEN = "123:test"
    settings.TELEGRAM_MANAGERS_CHAT_ID = ""  # only the test that checks the managers' alert sets it
    settings.ADMINS = [("Ops", "ops@example.com")]


def place_order(*, customer_chat: str = "", seller_chat: str = "") -> Order:
    customer = UserFactory.create()
    if customer_chat:
        customer_profile_update(user=customer, telegram_chat_id=customer_chat)
    seller = SellerFactory.create(telegram_chat_id=seller_chat)
    return order_create(customer=customer, items=[OrderLine(ProductFactory.create(seller=seller).pk, 1)])


def telegram_for(order: Order, audience: str) -> Notification:
    return Notification.objects.get(order=order, channel=Channel.TELEGRAM, audience=audience)


def settled(notification: Notification) -> bool:
    notification.refresh_from_db()
    return notification.status != NotificationStatus.PENDING


def test_a_new_order_reaches_customer_seller_and_managers_by_telegram_and_email(stack, settings):
    settings.TELEGRAM_MANAGERS_CHAT_ID = MANAGERS_CHAT
    order = place_order(customer_chat="101", seller_chat="201")

    assert wait_until(
        lambda: Notification.objects.filter(order=order, status=NotificationStatus.SENT).count() == 5
    ), stack.worker.log()[-3000:]
    customer = stack.bot.for_chat("101")
    seller = stack.bot.for_chat("201")
    managers = [r for r in stack.bot.for_chat(MANAGERS_CHAT) if f"#{order.pk}" in r.text]
    assert [r.text.splitlines()[0] for r in customer] == [f"Your order #{order.pk} is confirmed"]
    assert [r.text.splitlines()[0] for r in seller] == [
        f"New order #{order.pk} for {order.items.get().product.seller.name}"
    ]
    assert len(managers) == 1
    assert order.customer.email in managers[0].text
    assert all(r.token == "123:test" for r in customer + seller + managers)
    assert sorted(m.recipients[0] for m in stack.mailbox.wait_for(2, timeout=10)) == sorted(
        [order.customer.email, order.items.get().product.seller.email]
    )


def test_429_waits_for_retry_after_then_delivers(stack):
    stack.bot.script(
        "301",
        ScriptedReply(
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 2",
                "parameters": {"retry_after": 2},
            },
        ),
    )
    notification = telegram_for(place_order(customer_chat="301"), Audience.CUSTOMER)

    assert wait_until(lambda: settled(notification), timeout=30)
    assert (notification.status, notification.attempts) == (NotificationStatus.SENT, 2)
    first, second = stack.bot.for_chat("301")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 2.0


def test_server_errors_are_retried_until_delivered(stack):
    stack.bot.script("401", *[ScriptedReply(500)] * 3)
    notification = telegram_for(place_order(customer_chat="401"), Audience.CUSTOMER)

    assert wait_until(lambda: settled(notification), timeout=60)
    assert (notification.status, notification.attempts) == (NotificationStatus.SENT, 4)
    assert [r.status for r in stack.bot.for_chat("401")] == [500, 500, 500, 200]


def test_a_timeout_is_retried(stack):
    stack.bot.script("501", ScriptedReply(delay=2.5))  # longer than the 1 s client timeout
    notification = telegram_for(place_order(customer_chat="501"), Audience.CUSTOMER)

    assert wait_until(lambda: settled(notification), timeout=30)
    assert (notification.status, notification.attempts) == (NotificationStatus.SENT, 2)
    assert len(stack.bot.for_chat("501")) == 2


def test_a_blocked_bot_fails_at_once_and_alerts_the_administrators(stack):
    stack.bot.script(
        "601",
        ScriptedReply(
            403, {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}
        ),
    )
    notification = telegram_for(place_order(customer_chat="601"), Audience.CUSTOMER)

    assert wait_until(lambda: settled(notification), timeout=30)
    assert notification.status == NotificationStatus.FAILED
    assert notification.attempts == 1
    assert "403" in notification.last_error
    assert "bot was blocked" in notification.last_error
    assert len(stack.bot.for_chat("601")) == 1

    def alert_mails() -> list:
        return [m for m in stack.mailbox.wait_for(10, timeout=3) if m.recipients == ["ops@example.com"]]

    alerts = alert_mails()
    assert len(alerts) == 1
    assert alerts[0].message["Subject"] == f"Notification #{notification.pk} could not be delivered"
    assert wait_until(
        lambda: any(f"Notification #{notification.pk}" in r.text for r in stack.bot.for_chat(MANAGERS_CHAT))
    )


def test_a_duplicate_task_sends_once(stack):
    stack.bot.script("701", ScriptedReply(delay=0.5))  # slow enough for the copies to overlap
    notification = telegram_for(place_order(customer_chat="701"), Audience.CUSTOMER)
    for _ in range(3):  # the same message delivered again, as after a redelivery
        app.send_task(
            "notifications.tasks.send_order_confirmation", kwargs={"notification_id": notification.pk}
        )

    assert wait_until(lambda: settled(notification), timeout=30)
    time.sleep(3)  # let every copy run
    assert len(stack.bot.for_chat("701")) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (NotificationStatus.SENT, 1)


def test_a_burst_respects_the_global_and_per_chat_limits(stack):
    chats = [f"9{n:02d}" for n in range(6)]
    orders = [place_order(customer_chat=chat) for chat in chats for _ in range(3)]  # 3 messages per chat
    notifications = Notification.objects.filter(order__in=orders, channel=Channel.TELEGRAM)

    assert wait_until(lambda: set(notifications.values_list("status", flat=True)) == {"sent"}, timeout=60), (
        stack.worker.log()[-2000:]
    )
    burst = [r for r in stack.bot.requests if r.chat_id in chats]
    assert len([r for r in burst if r.status == 200]) == 18
    assert [r for r in burst if r.status == 429] == []  # never throttled by the server
    for chat in chats:
        times = [r.at for r in burst if r.chat_id == chat]
        assert all(b - a >= 0.85 for a, b in itertools.pairwise(times)), (chat, times)
    times = sorted(r.at for r in burst)
    # never GLOBAL_PER_SECOND + 1 requests within one second (less 15 % for arrival jitter)
    assert all(b - a >= 0.85 for a, b in zip(times, times[GLOBAL_PER_SECOND:], strict=False))


def test_many_failures_at_once_become_one_summary(stack):
    chats = [f"8{n:02d}" for n in range(5)]
    for chat in chats:
        stack.bot.script(
            chat,
            ScriptedReply(
                400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
            ),
        )
    stack.mailbox.wait_for(100, timeout=2)  # forget earlier mail
    failed = [telegram_for(place_order(customer_chat=chat), Audience.CUSTOMER) for chat in chats]

    assert wait_until(lambda: all(settled(n) for n in failed), timeout=30)
    assert {n.status for n in failed} == {NotificationStatus.FAILED}
    alerts = [m for m in stack.mailbox.wait_for(20, timeout=8) if m.recipients == ["ops@example.com"]]
    subjects = sorted(m.message["Subject"] for m in alerts)
    singles = [s for s in subjects if s.startswith("Notification #")]
    summaries = [s for s in subjects if "notifications could not be delivered" in s]
    assert len(singles) <= 2  # the burst allowance
    assert summaries == [f"{5 - len(singles)} notifications could not be delivered"]
    assert Notification.objects.filter(pk__in=[n.pk for n in failed], alerted_at=None).count() == 0
    assert Notification.objects.filter(event=Event.DELIVERY_FAILURES, channel=Channel.EMAIL).count() == 1
