"""Delivery channels: how a rendered message reaches a recipient, and how failures are classified.

Every channel raises one of two errors, so the caller never has to know a transport:
TransientDeliveryError (worth another try, maybe after `retry_after` seconds) or
PermanentDeliveryError (another try would fail the same way).
"""

import os
import smtplib
import threading
from contextlib import suppress
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

import httpx
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection


class DeliveryError(Exception):
    pass


class TransientDeliveryError(DeliveryError):
    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    pass


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: str
    mimetype: str


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    key: str = ""  # the same for every attempt at one notification (e-mail: the Message-ID)
    attachments: tuple[Attachment, ...] = ()  # e-mail only


def message_id(key: str) -> str:
    """A Message-ID that every attempt repeats, so a resend after a crash is the same e-mail
    (mail systems show one message per Message-ID)."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"
    return f"<{key}@{domain}>"


class _MailConnection:
    """One connection to the mail server per process, kept open between e-mails: no connect,
    EHLO and QUIT for each. One the server dropped since (idle timeout, restart) is replaced
    once; the message is sent again on the new connection, with the same Message-ID."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connection: Any = None
        self._key: tuple = ()

    def send(self, email: EmailMultiAlternatives) -> None:
        key = (os.getpid(), settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT)
        with self._lock:
            if key != self._key:  # a forked worker process, or other settings: not this connection
                self._connection, self._key = None, key
            for attempt in (1, 2):
                if self._connection is None:
                    self._connection = get_connection(fail_silently=False)
                    self._connection.open()
                email.connection = self._connection
                try:
                    email.send(fail_silently=False)
                    return
                except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
                    self._drop()
                    if attempt == 2:
                        raise exc
                except Exception:
                    self._drop()
                    raise

    def _drop(self) -> None:
        with suppress(Exception):
            self._connection.close()
        self._connection = None


_mail = _MailConnection()


def send_email(recipient: str, message: Message) -> None:
    headers = {"Message-ID": message_id(message.key)} if message.key else None
    email = EmailMultiAlternatives(message.subject, message.text, None, [recipient], headers=headers)
    email.attach_alternative(message.html, "text/html")
    for attachment in message.attachments:
        email.attach(attachment.filename, attachment.content, attachment.mimetype)
    try:
        _mail.send(email)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        reason = "; ".join(
            f"{code} {text.decode(errors='replace')}" for code, text in exc.recipients.values()
        )
        _raise_for_smtp_code(min(codes), f"recipient refused: {reason}", exc)
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        _raise_for_smtp_code(exc.smtp_code, f"SMTP {exc.smtp_code} {text}", exc)
    except (smtplib.SMTPException, OSError) as exc:  # disconnects, refused connections, timeouts
        raise TransientDeliveryError(f"{type(exc).__name__}: {exc}") from exc


def _raise_for_smtp_code(code: int, message: str, exc: Exception) -> None:
    # 4xx: the server asks us to come back later; 5xx: it will never accept this.
    if 400 <= code < 500:
        raise TransientDeliveryError(message) from exc
    raise PermanentDeliveryError(message) from exc


# One pooled client per process (keep-alive connections to the Bot API), made at
# import so that the first message of a worker is not slowed down by it. It opens
# no connection before the worker forks, so pool processes never share a socket.
_client = httpx.Client()


def send_telegram(chat_id: str, message: Message) -> None:
    """Bot API sendMessage; the token and base URL come from settings."""
    url = f"{settings.TELEGRAM_API_BASE_URL.rstrip('/')}/bot{settings.TELEGRAM_BOT_TOKEN}/sendMessage"
    try:
        response = _client.post(
            url,
            json={"chat_id": chat_id, "text": message.text, "disable_web_page_preview": True},
            timeout=settings.TELEGRAM_TIMEOUT_SECONDS,
        )
    except httpx.TransportError as exc:  # connection errors and timeouts alike
        raise TransientDeliveryError(f"Telegram unreachable: {type(exc).__name__}: {exc}") from exc

    if response.status_code == 200:
        return
    description = _telegram_description(response)
    if response.status_code == 429:
        raise TransientDeliveryError(
            f"Telegram 429: {description}", retry_after=_telegram_retry_after(response)
        )
    if response.status_code >= 500:
        raise TransientDeliveryError(f"Telegram {response.status_code}: {description}")
    # 400 chat not found, 403 bot blocked, 401 bad token: the same call will fail again.
    raise PermanentDeliveryError(f"Telegram {response.status_code}: {description}")


def _telegram_body(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _telegram_description(response: httpx.Response) -> str:
    return str(_telegram_body(response).get("description") or response.reason_phrase)


def _telegram_retry_after(response: httpx.Response) -> float | None:
    parameters = _telegram_body(response).get("parameters") or {}
    value = parameters.get("retry_after", response.headers.get("Retry-After"))
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
