import os
import tempfile
from pathlib import Path

DATA_DIR = Path(os.environ.get("MEDIA_DATA_DIR", tempfile.gettempdir())) / f"media-{os.getpid()}"
DATA_DIR.mkdir(parents=True, exist_ok=True)
UPLOAD_DIR = DATA_DIR / "uploads"
UPLOAD_DIR.mkdir(exist_ok=True)
TERMS_PATH = DATA_DIR / "terms.md"
TERMS_PATH.write_text("# Terms of service\n")
STATS_DB = str(DATA_DIR / "stats.db")
SERVICE_URL = os.environ.get("MEDIA_SERVICE_URL", "http://127.0.0.1:9")
SERVICE_HOST, _, SERVICE_PORT = SERVICE_URL.removeprefix("http://").partition(":")
POLL_INTERVAL = 0.01
SMTP_HOST = os.environ.get("MEDIA_SMTP_HOST", "127.0.0.1")
SMTP_PORT = int(os.environ.get("MEDIA_SMTP_PORT", "2525"))
