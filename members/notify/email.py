"""E-mail through Django's mail (``EMAIL_BACKEND``; ``SHUYUAN_EMAIL_HOST`` in production).

OPTIONS (all optional): ``FROM_EMAIL`` (default ``DEFAULT_FROM_EMAIL``), ``SUBJECT_PREFIX``
(default "【书苑】"), ``CONNECTION`` (an ``EMAIL_BACKEND`` path for this channel only). One message per
recipient over one connection, so one refused address fails alone.
"""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils.module_loading import import_string

from .base import Message, NotifyBackend, Result


class EmailBackend(NotifyBackend):
    channel = "email"
    vendor = "电子邮件"
    max_per_call = 100

    def __init__(self, options):
        super().__init__(options)
        self.from_email = options.get("FROM_EMAIL") or None
        self.prefix = options.get("SUBJECT_PREFIX", "【书苑】")
        self.connection_path = options.get("CONNECTION") or None
        if self.connection_path:
            try:
                import_string(self.connection_path)
            except ImportError as e:
                raise ValueError(f"CONNECTION {self.connection_path!r} cannot be imported: {e}") from e

    def send(self, message: Message, addresses: list[str]) -> list[Result]:
        results = []
        try:
            connection = get_connection(self.connection_path, fail_silently=False)
            connection.open()
        except (OSError, smtplib.SMTPException) as e:
            return self.failed_all(addresses, type(e).__name__, str(e))
        try:
            for address in addresses:
                mail = EmailMessage(
                    f"{self.prefix}{message.title}", message.body,
                    self.from_email or settings.DEFAULT_FROM_EMAIL, [address], connection=connection,
                )
                try:
                    mail.send()
                except (OSError, smtplib.SMTPException) as e:
                    results.append(Result(address, False, type(e).__name__, str(e)[:500]))
                else:
                    results.append(Result(address, True, "OK", "", mail.extra_headers.get("Message-ID", "")))
        finally:
            connection.close()
        return results
