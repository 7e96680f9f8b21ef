"""The audit: the database, the SMTP and Telegram servers' logs and the client's record, held
to the promise once the run has drained. Each invariant has a figure and, when it fails,
the cases that break it."""

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings

from chaos.nemesis import Fault, Plan
from chaos.workload import Record
from messaging.models import DeadLetter, OutboxMessage
from messaging.routing import DEAD_LETTERS, QUEUE_NAMES
from notifications.channels import message_id
from notifications.models import Audience, Channel, Event, Notification, NotificationStatus
from orders.models import (
    CallbackState,
    CallbackStatus,
    IdempotencyRecord,
    Order,
    OrderItem,
    OrderStatus,
    PaymentCallback,
    Product,
)
from reports.models import DailyReport, ReportStatus
from services.notifications.delivery import render
from testing import servers

HOLDING_STOCK = {OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.DELIVERED}
SHOWN = 10  # failing cases listed per invariant


@dataclass
class Invariant:
    name: str
    figure: str
    broken: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        return not self.broken


@dataclass
class Audit:
    invariants: list[Invariant] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    window_duplicates: list[str] = field(default_factory=list)

    def check(self, name: str, figure: str, broken: Iterable[str]) -> None:
        self.invariants.append(Invariant(name, figure, list(broken)))

    @property
    def holds(self) -> bool:
        return all(invariant.holds for invariant in self.invariants)


def audit(
    *,
    record: Record,
    plan: Plan,
    sink: servers.SmtpSink,
    telegram: servers.TelegramServer,
    initial_stock: dict[int, int],
    lowest_stock: int,
) -> Audit:
    result = Audit()
    orders = {order.pk: order for order in Order.objects.select_related("payment", "customer")}
    _orders(result, record, orders)
    _stock(result, orders, initial_stock, lowest_stock)
    _callbacks(result, record, orders)
    _notifications(result, orders)
    _deliveries(result, sink, telegram, plan)
    _queues(result, plan)
    _client_answers(result, record)
    return result


def _orders(result: Audit, record: Record, orders: dict[int, Order]) -> None:
    acknowledged = [r for r in record.orders if r.outcome == "acknowledged"]
    by_key = {
        (r.user_id, r.key): (r.body or {}).get("id") for r in IdempotencyRecord.objects.filter(status=201)
    }
    keys_of_order = Counter(order_id for order_id in by_key.values())
    result.counts.update(
        orders_attempted=len(record.orders),
        orders_acknowledged=len(acknowledged),
        orders_rejected=sum(r.outcome == "rejected" for r in record.orders),
        orders_without_answer=sum(r.outcome == "unknown" for r in record.orders),
        orders_in_database=len(orders),
        order_requests_retried=sum(len(r.statuses) > 1 for r in record.orders),
    )
    result.check(
        "every acknowledged order exists",
        f"{len(acknowledged)} acknowledged, {sum(r.order_id in orders for r in acknowledged)} found",
        (f"order {r.order_id} (key {r.key})" for r in acknowledged if r.order_id not in orders),
    )
    told_failed = [r for r in record.orders if r.outcome == "rejected" and by_key.get((r.customer_id, r.key))]
    result.check(
        "no order the client was told failed exists",
        f"{result.counts['orders_rejected']} rejected, {len(told_failed)} of them in the database",
        (f"key {r.key} -> order {by_key[(r.customer_id, r.key)]}" for r in told_failed),
    )
    attempted_keys = {(r.customer_id, r.key) for r in record.orders}
    strays = [f"order {pk}: {keys_of_order[pk]} keys" for pk in orders if keys_of_order[pk] != 1]
    strays += [
        f"key {key} -> order {pk}, a key no client sent"
        for key, pk in by_key.items()
        if key not in attempted_keys
    ]
    result.check(
        "each order exists once, for one key the clients sent",
        f"{len(orders)} orders, {len(by_key)} keys",
        strays,
    )
    items: dict[int, dict[int, int]] = defaultdict(dict)
    for order_id, product_id, quantity in OrderItem.objects.values_list("order_id", "product_id", "quantity"):
        items[order_id][product_id] = quantity
    found = {r.order_id: r for r in acknowledged if r.order_id in orders}
    result.check(
        "each acknowledged order has the items asked for",
        f"{sum(len(items[pk]) for pk in found)} lines",
        (f"order {pk}: {items[pk]} != {r.lines}" for pk, r in found.items() if items[pk] != r.lines),
    )
    result.check(
        "a repeated request returns its order, not a new one",
        f"{len(record.replays)} repeated",
        (
            f"order {o}: {status} {replayed}"
            for o, replayed, status in record.replays
            if replayed != o and status
        ),
    )


def _stock(result: Audit, orders: dict[int, Order], initial: dict[int, int], lowest: int) -> None:
    taken: Counter[int] = Counter()
    for order_id, product_id, quantity in OrderItem.objects.values_list("order_id", "product_id", "quantity"):
        if orders[order_id].status in HOLDING_STOCK:
            taken[product_id] += quantity
    final = dict(Product.objects.values_list("pk", "stock"))
    result.check(
        "stock ends at what the orders imply, and never went below zero",
        f"{len(final)} products, {sum(taken.values())} units held by orders, lowest stock seen {lowest}",
        [
            f"product {pk}: {final[pk]} != {initial[pk]} - {taken[pk]}"
            for pk in final
            if final[pk] != initial[pk] - taken[pk]
        ]
        + ([f"stock {lowest} seen"] if lowest < 0 else []),
    )


def _callbacks(result: Audit, record: Record, orders: dict[int, Order]) -> None:
    stored = {c.event_id: c for c in PaymentCallback.objects.all()}
    acknowledged = {event for event, _, _, answer in record.callbacks if answer.status in (200, 202)}
    result.counts.update(
        callbacks_sent=len(record.callbacks),
        callback_events=len({event for event, *_ in record.callbacks}),
        callbacks_stored=len(stored),
        **{f"callbacks_{state}": n for state, n in Counter(c.state for c in stored.values()).items()},
    )
    result.check(
        "every acknowledged callback is stored once and processed",
        f"{len(acknowledged)} events acknowledged, {len(stored)} stored",
        [f"{event}: not stored" for event in acknowledged if event not in stored]
        + [f"{event}: {c.state}" for event, c in stored.items() if c.state == CallbackState.RECEIVED],
    )
    applied = Counter(c.order_id for c in stored.values() if c.state == CallbackState.APPLIED)
    broken = [f"order {pk}: {n} callbacks applied" for pk, n in applied.items() if n > 1]
    for c in stored.values():
        if c.state != CallbackState.APPLIED:
            continue
        order = orders[c.order_id]
        paid = c.status == CallbackStatus.SUCCEEDED
        if paid and (order.payment.paid_at is None or order.status == OrderStatus.PAYMENT_FAILED):
            broken.append(f"order {order.pk}: paid callback applied, order {order.status}")
        if not paid and order.status != OrderStatus.PAYMENT_FAILED:
            broken.append(f"order {order.pk}: failed callback applied, order {order.status}")
    for order in orders.values():
        if (order.payment.paid_at is not None or order.status == OrderStatus.PAYMENT_FAILED) and not applied[
            order.pk
        ]:
            broken.append(f"order {order.pk}: {order.status} with no callback applied")
    result.check(
        "each order took at most one callback, and the one it took shows",
        f"{sum(applied.values())} applied",
        broken,
    )


def _events(order: Order, applied: dict[int, str]) -> list[str]:
    events: list[str] = [Event.ORDER_CREATED]
    if applied.get(order.pk) == CallbackStatus.SUCCEEDED:
        events.append(Event.ORDER_PAID)
    if applied.get(order.pk) == CallbackStatus.FAILED:
        events.append(Event.ORDER_PAYMENT_FAILED)
    if order.status == OrderStatus.CANCELLED:
        events.append(Event.ORDER_CANCELLED)
    if order.shipped_at:
        events.append(Event.ORDER_SHIPPED)
    if order.delivered_at:
        events.append(Event.ORDER_DELIVERED)
    return events


def _expected_notifications(orders: dict[int, Order]) -> Counter[tuple]:
    """(order, event, audience, channel, recipient) of every notification the orders' events
    call for, worked out here from the data and the README's table, not by the product's fan-out."""
    applied = dict(
        PaymentCallback.objects.filter(state=CallbackState.APPLIED).values_list("order_id", "status")
    )
    sellers: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for order_id, email, chat in OrderItem.objects.values_list(
        "order_id", "product__seller__email", "product__seller__telegram_chat_id"
    ):
        sellers[order_id].add((email, chat))
    chats = dict(Order.objects.values_list("pk", "customer__customer_profile__telegram_chat_id"))
    telegram = bool(settings.TELEGRAM_BOT_TOKEN)  # without it, nothing goes to Telegram
    expected: Counter[tuple] = Counter()
    for order in orders.values():
        for event in _events(order, applied):
            audiences = [(Audience.CUSTOMER, order.customer.email, chats[order.pk] or "")]
            if event not in (Event.ORDER_SHIPPED, Event.ORDER_DELIVERED):
                audiences += [(Audience.SELLER, email, chat) for email, chat in sellers[order.pk]]
            if event == Event.ORDER_CREATED:
                audiences.append((Audience.MANAGERS, "", settings.TELEGRAM_MANAGERS_CHAT_ID))
            for audience, email, chat in audiences:
                if email:
                    expected[(order.pk, event, audience, Channel.EMAIL, email)] += 1
                if chat and telegram:
                    expected[(order.pk, event, audience, Channel.TELEGRAM, chat)] += 1
    return expected


def _notifications(result: Audit, orders: dict[int, Order]) -> None:
    expected = _expected_notifications(orders)
    actual = Counter(
        Notification.objects.exclude(order=None).values_list(
            "order_id", "event", "audience", "channel", "recipient"
        )
    )
    flagged = PaymentCallback.objects.filter(state=CallbackState.FLAGGED).count()
    alerts = Counter(
        n.payload.get("event_id") for n in Notification.objects.filter(event=Event.PAYMENT_FLAGGED)
    )
    per_alert = len(settings.ADMINS) + bool(settings.TELEGRAM_MANAGERS_CHAT_ID)
    result.counts.update(
        notifications=Notification.objects.count(), notifications_for_orders=sum(actual.values())
    )
    result.check(
        "each order has exactly the notifications its events call for",
        f"{sum(expected.values())} expected, {sum(actual.values())} recorded",
        [f"missing {key}" for key in expected - actual] + [f"extra {key}" for key in actual - expected],
    )
    result.check(
        "each flagged callback alerted staff once",
        f"{flagged} flagged, {sum(alerts.values())} alerts",
        [f"{event}: {n} alerts" for event, n in alerts.items() if n != per_alert]
        + ([f"{flagged} flagged, {len(alerts)} alerted"] if flagged != len(alerts) else []),
    )


def opens_the_window(fault: Fault) -> bool:
    """Can this fault open the documented window for a second copy: the sending worker, or
    its database connection, lost between the provider's acceptance and the commit?"""
    if fault.kind in ("sigkill", "sigstop"):
        return fault.resource.startswith("worker-notifications")
    if fault.kind == "database-kill-connections":
        return fault.resource == "worker"
    return fault.kind in ("database-cut", "database-stall")


def _deliveries(result: Audit, sink: servers.SmtpSink, telegram: servers.TelegramServer, plan: Plan) -> None:
    notifications = list(Notification.objects.all())
    mails, first_mail = sink.message_ids(), sink.first_accepted()
    accepted: Counter[tuple[str, str]] = Counter()
    first_message: dict[tuple[str, str], float] = {}
    for request in telegram.requests:
        if request.status == 200:
            accepted[(request.chat_id, request.text)] += 1
            first_message.setdefault((request.chat_id, request.text), request.at)
    missing, not_sent, in_window, outside = [], [], [], []
    for n in notifications:
        if n.status != NotificationStatus.SENT:
            not_sent.append(f"notification {n.pk} ({n.event}, {n.channel}) {n.status}: {n.last_error[:120]}")
        message = render(notification=n)
        if n.channel == Channel.EMAIL:
            times, first = mails[message_id(message.key)], first_mail.get(message_id(message.key), 0.0)
        else:
            chat_text = (n.recipient, message.text)
            times, first = accepted[chat_text], first_message.get(chat_text, 0.0)
        if times == 0:
            missing.append(f"notification {n.pk} ({n.event}, {n.channel} to {n.recipient})")
        elif times > 1:
            fault = plan.during(first, opens_the_window)
            case = f"notification {n.pk} ({n.event}, {n.channel}) delivered {times} times"
            if fault is None:
                outside.append(case)
            else:
                in_window.append(
                    f"{case}, the first during fault {fault.number} ({fault.kind} {fault.resource})"
                )
    result.counts.update(
        emails_accepted=sum(mails.values()),
        telegram_messages_accepted=sum(accepted.values()),
        telegram_requests=len(telegram.requests),
        telegram_429_forced=sum(r.forced and r.status == 429 for r in telegram.requests),
        telegram_429_by_limits=len(telegram.throttled()),
        copies_in_the_documented_window=len(in_window),
    )
    result.check("every notification was sent", f"{len(notifications)} notifications", not_sent)
    result.check(
        "every notification was delivered", f"{len(notifications) - len(missing)} delivered", missing
    )
    result.window_duplicates = in_window
    result.check(
        "no notification delivered twice outside the documented window",
        f"{len(outside)} outside, {len(in_window)} in it (first copy during a fault that opens it)",
        outside,
    )


def _queues(result: Audit, plan: Plan) -> None:
    unpublished = OutboxMessage.objects.filter(published_at=None).count()
    result.check(
        "the outbox ends empty",
        f"{unpublished} unpublished",
        [f"{unpublished} unpublished"] if unpublished else [],
    )
    tags = [f"chaos-poison-{f.number}" for f in plan.faults if f.kind == "poison"]
    letters = list(DeadLetter.objects.all())
    explained = [d for d in letters if any(d.task_id.startswith(t) or t in d.detail for t in tags)]
    result.counts.update(dead_letters=len(letters), poison_messages=5 * len(tags))
    result.check(
        "every dead letter is explained (a poison message), and every poison message is one",
        f"{len(letters)} dead letters, {5 * len(tags)} poison messages",
        [f"dead letter {d.pk}: {d.task_name} {d.reason[:100]}" for d in letters if d not in explained]
        + (
            [f"{5 * len(tags) - len(explained)} poison messages not dead-lettered"]
            if len(explained) != 5 * len(tags)
            else []
        ),
    )
    depths = queue_depths()
    result.check(
        "every queue ends empty",
        ", ".join(f"{name} {depth}" for name, depth in depths.items()),
        [f"{name}: {depth}" for name, depth in depths.items() if depth],
    )
    reports = DailyReport.objects.values_list("date", "status")
    result.check(
        "every daily report requested is ready",
        f"{len(reports)} report(s)",
        [f"{day}: {status}" for day, status in reports if status != ReportStatus.READY],
    )


def _client_answers(result: Audit, record: Record) -> None:
    orders = {o.pk: o for o in Order.objects.all()}
    wrong = [
        f"cancel {pk} answered 200, order {orders[pk].status}"
        for pk, answer in record.cancels
        if answer.status == 200 and orders[pk].status != OrderStatus.CANCELLED
    ]
    stamps = {"ship": "shipped_at", "deliver": "delivered_at"}
    wrong += [
        f"{action} {pk} answered 200, {stamps[action]} empty"
        for pk, action, answer in record.transitions
        if answer.status == 200 and getattr(orders[pk], stamps[action]) is None
    ]
    result.counts.update(
        cancels_acknowledged=sum(a.status == 200 for _, a in record.cancels),
        shipped=sum(a.status == 200 and action == "ship" for _, action, a in record.transitions),
        delivered=sum(a.status == 200 and action == "deliver" for _, action, a in record.transitions),
        reports_requested=sum(a.status == 202 for a in record.reports),
        answers_5xx_or_none=sum(s in (0, 500, 502, 503, 504) for r in record.orders for s in r.statuses),
    )
    result.check(
        "every acknowledged cancel, ship and deliver shows in the order",
        f"{len(record.cancels) + len(record.transitions)} asked",
        wrong,
    )
    result.check(
        "no answer outside the documented ones", f"{len(record.unexpected)} unexpected", record.unexpected
    )
    result.counts.update(**{f"orders_{s}": n for s, n in Counter(o.status for o in orders.values()).items()})


def queue_depths() -> dict[str, int]:
    """Messages ready or unacknowledged in each queue (passive declares: nothing published)."""
    with servers.amqp_channel() as channel:
        return {
            name: int(channel.queue_declare(name, passive=True).method.message_count)
            for name in (*QUEUE_NAMES, DEAD_LETTERS.name)
        }
