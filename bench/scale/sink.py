"""The SMTP server of `make scale` (aiosmtpd, on 127.0.0.1): it accepts every mail,
counts it by the outbox row it names (the X-Azukeru-Notification header), and keeps
each recipient's mails so that the load can read a device key out of one, as its
user would."""

import email
import email.policy
import threading
import time
from collections import Counter, defaultdict

from aiosmtpd.controller import Controller

from bench import servers

TRACE_HEADER = "X-Azukeru-Notification"


class Sink:
    def __init__(self):
        self.received: Counter[str] = Counter()
        self.without_id = 0
        self.times: list[float] = []
        self.bodies: dict[str, list[str]] = defaultdict(list)
        self._arrived = threading.Condition()
        self.port = servers.free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self._controller.start()
        return self

    def __exit__(self, *exc):
        self._controller.stop()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(("plain",))
        text = body.get_content() if body is not None else ""
        with self._arrived:
            notification = message.get(TRACE_HEADER)
            if notification:
                self.received[str(notification)] += 1
            else:
                self.without_id += 1
            self.times.append(time.monotonic())
            for recipient in envelope.rcpt_tos:
                self.bodies[recipient.lower()].append(text)
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, recipient: str, needle: str, timeout: float) -> str | None:
        """The first mail to `recipient` whose text holds `needle`, waiting for it."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for text in self.bodies.get(recipient.lower(), []):
                    if needle in text:
                        return text
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._arrived.wait(left)

    def summary(self) -> dict:
        with self._arrived:
            return {"received": dict(self.received), "without_id": self.without_id}

    def rate(self, since: float) -> float:
        """Mails per second from `since` to the last one received."""
        with self._arrived:
            times = [t for t in self.times if t >= since]
        if len(times) < 2:
            return 0.0
        return len(times) / (times[-1] - since)
