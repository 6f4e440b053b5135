import os
import smtplib
from email.message import EmailMessage

SMTP_HOST = os.environ.get("DISPATCH_SMTP_HOST", "127.0.0.1")
SMTP_PORT = int(os.environ.get("DISPATCH_SMTP_PORT", "2525"))


def send_email(to: str, subject: str) -> None:
    message = EmailMessage()
    message["To"] = to
    message["Subject"] = subject
    try:
        with smtplib.SMTP(SMTP_HOST, SMTP_PORT, timeout=2) as server:
            server.send_message(message)
    except OSError:
        pass  # the notification is best effort


async def send_incident_notification(incident_id: int) -> None:
    send_email("oncall@example.com", f"Incident {incident_id} created")
