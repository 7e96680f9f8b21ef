"""How each channel classifies what its server answers: transient (retry) or permanent."""

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from notifications.channels import (
    Message,
    PermanentDeliveryError,
    TransientDeliveryError,
    send_email,
    send_telegram,
)
from testing import servers
from testing.servers import ScriptedReply

MESSAGE = Message(subject="Hello", text="Body", html="<p>Body</p>")


@pytest.fixture
def bot(settings) -> Iterator[servers.TelegramServer]:
    with servers.telegram_server() as server:
        settings.TELEGRAM_BOT_TOKEN = "123:abc"
        settings.TELEGRAM_API_BASE_URL = server.base_url
        settings.TELEGRAM_TIMEOUT_SECONDS = 0.5
        yield server


def test_telegram_success_posts_send_message(bot):
    send_telegram("42", MESSAGE)
    (request,) = bot.requests
    assert (request.token, request.chat_id, request.text) == ("123:abc", "42", "Body")


def test_telegram_429_is_transient_with_retry_after(bot):
    bot.script(
        "42",
        ScriptedReply(
            429,
            {
                "ok": False,
                "description": "Too Many Requests: retry after 7",
                "parameters": {"retry_after": 7},
            },
        ),
    )
    with pytest.raises(TransientDeliveryError) as caught:
        send_telegram("42", MESSAGE)
    assert caught.value.retry_after == 7.0
    assert "Too Many Requests" in str(caught.value)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_telegram_server_errors_are_transient(bot, status):
    bot.script("42", ScriptedReply(status))
    with pytest.raises(TransientDeliveryError) as caught:
        send_telegram("42", MESSAGE)
    assert caught.value.retry_after is None


@pytest.mark.parametrize(
    ("status", "description"),
    [
        (400, "Bad Request: chat not found"),
        (403, "Forbidden: bot was blocked by the user"),
        (401, "Unauthorized"),
    ],
)
def test_telegram_client_errors_are_permanent(bot, status, description):
    bot.script("42", ScriptedReply(status, {"ok": False, "error_code": status, "description": description}))
    with pytest.raises(PermanentDeliveryError, match=description):
        send_telegram("42", MESSAGE)


def test_telegram_timeout_is_transient(bot):
    bot.script("42", ScriptedReply(delay=1.5))
    with pytest.raises(TransientDeliveryError, match="Timeout"):
        send_telegram("42", MESSAGE)


def test_telegram_unreachable_is_transient(settings):
    settings.TELEGRAM_API_BASE_URL = f"http://127.0.0.1:{servers.free_port()}"
    with pytest.raises(TransientDeliveryError, match="ConnectError"):
        send_telegram("42", MESSAGE)


class RejectingHandler:
    def __init__(self, reply: str) -> None:
        self.reply = reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return self.reply


@pytest.fixture
def smtp_replying(settings):
    def start(reply: str) -> None:
        port = servers.free_port()
        controller = Controller(RejectingHandler(reply), hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port

    started: list[Controller] = []
    yield start
    for controller in started:
        controller.stop()


def test_smtp_recipient_rejected_is_permanent(smtp_replying):
    smtp_replying("550 5.1.1 no such user")
    with pytest.raises(PermanentDeliveryError, match="550"):
        send_email("ghost@example.com", MESSAGE)


def test_smtp_4xx_is_transient(smtp_replying):
    smtp_replying("451 4.7.1 greylisted, try again later")
    with pytest.raises(TransientDeliveryError, match="451"):
        send_email("ann@example.com", MESSAGE)


def test_smtp_unreachable_is_transient(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", servers.free_port()
    with pytest.raises(TransientDeliveryError, match="ConnectionRefusedError"):
        send_email("ann@example.com", MESSAGE)


def test_every_attempt_at_one_notification_carries_the_same_message_id(settings, smtp):
    mailbox, port = smtp
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    message = Message(subject="Hi", text="Body", html="<p>Body</p>", key="notification-42")

    send_email("eve@example.com", message)
    send_email("eve@example.com", message)

    first, second = mailbox.wait_for(2)
    assert first.message["Message-ID"].strip() == "<notification-42@pro-platform.local>"
    assert second.message["Message-ID"].strip() == first.message["Message-ID"].strip()


def smtp_settings(settings, port: int) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port


def test_emails_share_one_smtp_connection(settings, smtp):
    mailbox, port = smtp
    smtp_settings(settings, port)
    for n in range(3):
        send_email(f"r{n}@example.com", MESSAGE)

    assert [m.recipients for m in mailbox.wait_for(3)] == [
        ["r0@example.com"],
        ["r1@example.com"],
        ["r2@example.com"],
    ]
    assert mailbox.sessions == 1


def test_a_connection_the_server_dropped_is_replaced_and_the_email_still_sent(settings):
    port = servers.free_port()
    smtp_settings(settings, port)
    with servers.smtp_server(port=port) as (first, _):
        send_email("before@example.com", MESSAGE)
        assert len(first.wait_for(1)) == 1
    with servers.smtp_server(port=port) as (second, _):  # a restart: the kept connection is dead
        send_email("after@example.com", MESSAGE)
        assert [m.recipients for m in second.wait_for(1)] == [["after@example.com"]]
        assert second.sessions == 1
