"""Reading statistics of a manuscript: CPU work that grows with the text.

``reading_stats`` is ``@cpu_bound``.  The sync shop calls it in a ``def`` route,
which FastAPI runs in its threadpool.  The async shop's route awaits
``run_cpu(reading_stats, text)``; where that runs is the app's choice, not the
route's: a local worker process by default, a Celery worker when the shop is
started with ``BOOKSHOP_REDIS_URL`` (see ``async_bookshop/worker.py``).  It takes
and returns plain data (str, int, lists), which both a process pipe and Celery's
JSON carry.
"""

import re
from collections import Counter
from typing import Any

from fastapi_boundary import cpu_bound

WORDS_PER_MINUTE = 230
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


@cpu_bound
def reading_stats(text: str, *, top: int = 5) -> dict[str, Any]:
    """Word count, distinct words, the most frequent long words and the reading time."""
    words = [word.lower() for word in _WORD.findall(text)]
    counts = Counter(word for word in words if len(word) > 3)
    return {
        "words": len(words),
        "distinct_words": len(set(words)),
        "top_words": [word for word, _ in counts.most_common(top)],
        "reading_minutes": round(len(words) / WORDS_PER_MINUTE, 1),
    }
