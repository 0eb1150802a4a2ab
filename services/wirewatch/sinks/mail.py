"""Email channel: an alert or notice in -> one multipart/alternative email (plain + HTML) over SMTP.

The subject is ``render.subject``; the text and HTML parts are ``render``'s ``text`` and ``html``
dialects. ``Message-ID`` is derived from the alert's idempotency key, so a mail system (or a
person's client) can recognise a redelivered alert as the same message.

smtplib is blocking; each send runs in a thread with its own connection and a timeout.
SMTP answers are translated: 4xx replies, refused connections and timeouts are
``TransientError``; 5xx replies (a refused recipient, a rejected login, a refused message) are
``PermanentError`` with the server's answer.
"""

from __future__ import annotations

import asyncio
import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from ..errors import PermanentError, TransientError
from ..settings import SmtpSettings
from .render import message_id, render, subject


def build_email(message: dict[str, Any], sender: str, to: list[str]) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = subject(message)
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Date"] = formatdate(usegmt=True)
    key = message_id(message)
    domain = sender.rpartition("@")[2] or "wirewatch"
    mail["Message-ID"] = f"<{key or 'x'}.wirewatch@{domain}>"
    mail["X-Wirewatch-Id"] = key
    mail["X-Wirewatch-Kind"] = str(message.get("kind") or "")
    mail.set_content(render(message, "text"))
    mail.add_alternative(render(message, "html"), subtype="html")
    return mail


class EmailChannel:
    kind = "email"

    def __init__(self, smtp: SmtpSettings) -> None:
        self._s = smtp
        who = hashlib.sha256(f"{smtp.host}:{smtp.port}:{','.join(sorted(smtp.to))}".encode()).hexdigest()[:16]
        self.target = f"{self.kind}:{who}"

    async def start(self) -> None:
        if not self._s.to:
            raise ValueError("email channel needs at least one recipient (channels.smtp.to)")

    async def close(self) -> None:
        pass

    async def send(self, message: dict[str, Any]) -> None:
        mail = build_email(message, self._s.sender, self._s.to)
        await asyncio.to_thread(self._send_sync, mail)

    def _send_sync(self, mail: EmailMessage) -> None:
        s, t = self._s, self.target
        try:
            if s.security == "tls":
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            with conn:
                if s.security == "starttls":
                    conn.starttls(context=ssl.create_default_context())
                if s.username:
                    conn.login(s.username, s.password.get_secret_value() if s.password else "")
                refused = conn.send_message(mail)
        except smtplib.SMTPRecipientsRefused as e:
            raise _by_code(t, min(code for code, _ in e.recipients.values()), str(e.recipients)) from e
        except smtplib.SMTPResponseException as e:  # SMTPSenderRefused, SMTPDataError, SMTPAuthenticationError
            raise _by_code(
                t,
                e.smtp_code,
                e.smtp_error.decode(errors="replace") if isinstance(e.smtp_error, bytes) else str(e.smtp_error),
            ) from e
        except smtplib.SMTPNotSupportedError as e:
            raise PermanentError("receiver_rejected", f"{t}: {e}") from e
        except TimeoutError as e:
            raise TransientError("receiver_timeout", f"{t}: {e!r}") from e
        except (smtplib.SMTPException, OSError) as e:  # disconnects, refused connections, TLS failures
            raise TransientError("receiver_unreachable", f"{t}: {e!r}") from e
        if refused:  # some recipients took it: retrying would mail the others twice
            raise PermanentError("receiver_rejected", f"{t}: recipients refused: {refused}")


def _by_code(target: str, code: int, text: str) -> Exception:
    if 400 <= code < 500:
        return TransientError("receiver_error", f"{target}: SMTP {code}: {text[:300]}")
    return PermanentError("receiver_rejected", f"{target}: SMTP {code}: {text[:500]}")
