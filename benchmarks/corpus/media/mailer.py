import smtplib
from email.message import EmailMessage

from . import settings


class Mailer:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port

    def send(self, to: str, body: str) -> bool:
        message = EmailMessage()
        message["To"] = to
        message.set_content(body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=2) as smtp:
                smtp.send_message(message)
        except OSError:
            return False
        return True


mailer = Mailer(settings.SMTP_HOST, settings.SMTP_PORT)
