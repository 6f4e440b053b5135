"""The blocking catalogue: qualified name → category → advice.

One data module, read by the run-time guard (what to intercept), the mypy
plugin (what to flag inside ``async def``) and the docs (the generated
table), so the three can never disagree about what blocks.

Names are the *defining* qualified names — ``module.function`` or
``module.Class.method`` as ``obj.__module__``/``__qualname__`` give them at
run time — plus ``aliases`` for the other names the same callable has (the
``os.path`` functions live in ``genericpath``/``posixpath``; mypy sees
typeshed's names).  A method entry covers subclasses: the guard and the
plugin look the name up along the receiver's MRO.  A name ending in ``.*``
covers every public method of that class (drivers whose every call does I/O).

Entries whose ``package`` is not installed are simply never matched.  Users
add their own entries with `parse_entries` (the configuration of each line
of defence feeds it: ``configure(blocking=...)``, the pytest ini key, the
mypy plugin section).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, get_args

__all__ = [
    "ADVICE",
    "CATALOG",
    "BlockingEntry",
    "Category",
    "by_name",
    "entries",
    "extend",
    "lookup",
    "lookup_method",
    "parse_entries",
    "reset",
    "restore",
    "snapshot",
]

Category = Literal["sleep", "file", "net", "db", "subprocess", "cpu", "lock", "input"]
CATEGORIES: tuple[str, ...] = get_args(Category)

#: The default fix for each category; an entry may give a more specific one.
ADVICE: Mapping[str, str] = {
    "sleep": "use `await anyio.sleep(...)` (or `asyncio.sleep`)",
    "file": (
        "offload it with `await run_blocking(...)`, use anyio's async files "
        "(`anyio.Path`, `anyio.open_file`), or make the endpoint `def`"
    ),
    "net": (
        "use an async client (`httpx.AsyncClient`), offload it with "
        "`await run_blocking(...)`, or make the endpoint `def`"
    ),
    "db": (
        "use the async driver (`AsyncSession`, aiosqlite, asyncpg) in an async layer, "
        "or keep the layer sync and make the endpoint `def`"
    ),
    "subprocess": "use `await anyio.run_process(...)` or `anyio.open_process`",
    "cpu": "run it in a worker process: `await run_cpu(...)` or `@cpu_bound`",
    "lock": (
        "use an async primitive (`anyio.Lock`, `anyio.Event`), or offload the wait "
        "with `await run_blocking(...)`"
    ),
    "input": "never read the terminal in a server; take the value from configuration",
}


@dataclass(frozen=True)
class BlockingEntry:
    """One blocking callable.

    ``audit_event`` is the PEP 578 event CPython raises when the call starts
    (the guard's way to catch names bound before it was switched on);
    ``package`` is the distribution that provides it, ``None`` for the
    standard library.
    """

    name: str
    category: Category
    advice: str = ""
    aliases: tuple[str, ...] = ()
    audit_event: str | None = None
    package: str | None = None

    @property
    def fix(self) -> str:
        return self.advice or ADVICE[self.category]

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def is_wildcard(self) -> bool:
        return self.name.endswith(".*")


def _group(
    category: Category,
    names: Iterable[str],
    *,
    package: str | None = None,
    advice: str = "",
    events: Mapping[str, str] | None = None,
    aliases: Mapping[str, tuple[str, ...]] | None = None,
) -> list[BlockingEntry]:
    events = events or {}
    aliases = aliases or {}
    return [
        BlockingEntry(
            name,
            category,
            advice,
            aliases.get(name, ()),
            events.get(name),
            package,
        )
        for name in names
    ]


def _path_aliases(*functions: str) -> dict[str, tuple[str, ...]]:
    """``os.path.x`` is ``genericpath.x`` or ``posixpath.x``/``ntpath.x`` underneath."""
    return {
        f"os.path.{name}": (f"genericpath.{name}", f"posixpath.{name}", f"ntpath.{name}")
        for name in functions
    }


def _methods(cls: str, *names: str) -> list[str]:
    return [f"{cls}.{name}" for name in names]


_HTTP_VERBS = ("request", "get", "post", "put", "patch", "delete", "head", "options")
_OS_PATH = ("exists", "isfile", "isdir", "islink", "getsize", "getmtime", "getatime", "realpath")
_PATHLIB_IO = (
    "read_text",
    "write_text",
    "read_bytes",
    "write_bytes",
    "open",
    "exists",
    "is_file",
    "is_dir",
    "stat",
    "iterdir",
    "glob",
    "rglob",
    "mkdir",
    "unlink",
    "rmdir",
    "rename",
    "touch",
    "resolve",
)
_IO_METHODS = ("read", "readline", "readlines", "write", "writelines", "flush")
_SQLA_SESSION = (
    "execute",
    "scalar",
    "scalars",
    "get",
    "commit",
    "flush",
    "rollback",
    "refresh",
    "merge",
    "connection",
)
_SQLA_QUERY = ("all", "first", "one", "one_or_none", "scalar", "count", "get")
_DBAPI_CURSOR = ("execute", "executemany", "fetchone", "fetchall", "fetchmany")
_SOCKET = ("connect", "accept", "recv", "recv_into", "recvfrom", "send", "sendall", "sendto")
_SMTP = (
    "connect",
    "starttls",
    "login",
    "auth",
    "ehlo",
    "helo",
    "sendmail",
    "send_message",
    "mail",
    "rcpt",
    "data",
    "docmd",
    "noop",
    "rset",
    "verify",
    "quit",
)
_SQLA_INSPECTOR = (
    "get_schema_names",
    "get_table_names",
    "get_temp_table_names",
    "get_view_names",
    "get_temp_view_names",
    "get_materialized_view_names",
    "get_sequence_names",
    "get_sorted_table_and_fkc_names",
    "get_view_definition",
    "get_columns",
    "get_pk_constraint",
    "get_foreign_keys",
    "get_indexes",
    "get_unique_constraints",
    "get_check_constraints",
    "get_table_comment",
    "get_table_options",
    "get_multi_columns",
    "get_multi_pk_constraint",
    "get_multi_foreign_keys",
    "get_multi_indexes",
    "get_multi_unique_constraints",
    "get_multi_check_constraints",
    "get_multi_table_comment",
    "get_multi_table_options",
    "has_table",
    "has_schema",
    "has_sequence",
    "has_index",
    "reflect_table",
)
_LXML_ETREE = ("fromstring", "XML", "HTML", "parse")
_LXML_HTML = (
    "fromstring",
    "document_fromstring",
    "fragment_fromstring",
    "fragments_fromstring",
    "parse",
)
_OPENAI_CLIENT = ("request", "get", "post", "patch", "put", "delete", "get_api_list")
_AUTHLIB_SERVER = (
    "create_token_response",
    "create_authorization_response",
    "create_endpoint_response",
    "get_consent_grant",
    "authenticate_client",
    "query_client",
    "save_token",
)

CATALOG: tuple[BlockingEntry, ...] = (
    # sleep
    BlockingEntry("time.sleep", "sleep", audit_event="time.sleep"),
    # file: the open is caught by its audit event everywhere; reads and writes on
    # an open file object (a C type) are caught statically and by step timing.
    *_group(
        "file",
        ["builtins.open", "io.open", "os.open", "os.read", "os.write"],
        events={"builtins.open": "open", "io.open": "open", "os.open": "open"},
        aliases={"builtins.open": ("io.open", "_io.open")},
    ),
    *_group(
        "file",
        [
            "os.stat",
            "os.lstat",
            "os.fstat",
            "os.access",
            "os.listdir",
            "os.scandir",
            "os.walk",
            "os.remove",
            "os.unlink",
            "os.rename",
            "os.replace",
            "os.mkdir",
            "os.makedirs",
            "os.rmdir",
            "os.chmod",
        ],
        events={
            "os.listdir": "os.listdir",
            "os.scandir": "os.scandir",
            "os.walk": "os.walk",
            "os.remove": "os.remove",
            "os.unlink": "os.remove",
            "os.rename": "os.rename",
            "os.replace": "os.rename",
            "os.mkdir": "os.mkdir",
            "os.rmdir": "os.rmdir",
            "os.chmod": "os.chmod",
        },
    ),
    *_group("file", [f"os.path.{name}" for name in _OS_PATH], aliases=_path_aliases(*_OS_PATH)),
    *_group(
        "file",
        ["shutil.copy", "shutil.copy2", "shutil.copyfile", "shutil.copytree", "shutil.rmtree"],
        # typeshed types rmtree as an instance of a callable protocol
        aliases={"shutil.rmtree": ("shutil._RmtreeType.__call__",)},
    ),
    *_group("file", ["shutil.move"], events={"shutil.move": "shutil.move"}),
    *_group(
        "file",
        ["shutil.copyfileobj", "shutil.make_archive", "shutil.unpack_archive", "shutil.disk_usage"],
        events={
            "shutil.make_archive": "shutil.make_archive",
            "shutil.unpack_archive": "shutil.unpack_archive",
        },
    ),
    *_group(
        "file",
        _methods("pathlib.Path", *_PATHLIB_IO),
        aliases={
            f"pathlib.Path.{name}": (f"pathlib._local.Path.{name}", f"pathlib.PurePath.{name}")
            for name in ("open", "exists", "stat")
        },
    ),
    *_group(
        "file",
        [
            *_methods("io.TextIOWrapper", *_IO_METHODS),
            *_methods("io.BufferedReader", "read", "readline", "readlines"),
            *_methods("io.BufferedWriter", "write", "flush"),
            *_methods("io.FileIO", "read", "readall", "write"),
        ],
        aliases={
            **{f"io.TextIOWrapper.{name}": (f"_io.TextIOWrapper.{name}",) for name in _IO_METHODS},
            # typeshed defines the io classes in _io (what open(..., "rb"/"wb") returns)
            **{
                f"io.{cls}.{name}": (f"_io.{cls}.{name}",)
                for cls, names in (
                    ("BufferedReader", ("read", "readline", "readlines")),
                    ("BufferedWriter", ("write", "flush")),
                    ("FileIO", ("read", "readall", "write")),
                )
                for name in names
            },
        },
    ),
    # net
    *_group(
        "net",
        [
            "socket.getaddrinfo",
            "socket.gethostbyname",
            "socket.gethostbyname_ex",
            "socket.gethostbyaddr",
            "socket.create_connection",
            *_methods("socket.socket", *_SOCKET),
            "select.select",
            "select.poll.poll",
            "select.epoll.poll",
            "selectors.DefaultSelector.select",
            *_methods("ssl.SSLSocket", "do_handshake", "read", "write", "recv", "send"),
            "urllib.request.urlopen",
            *_methods("http.client.HTTPConnection", "request", "getresponse", "connect"),
        ],
        events={
            "socket.getaddrinfo": "socket.getaddrinfo",
            "socket.gethostbyname": "socket.gethostbyname",
            "socket.gethostbyname_ex": "socket.gethostbyname",
            "socket.gethostbyaddr": "socket.gethostbyaddr",
            "socket.socket.connect": "socket.connect",
            "socket.socket.sendto": "socket.sendto",
            "urllib.request.urlopen": "urllib.Request",
            "http.client.HTTPConnection.connect": "http.client.connect",
        },
        aliases={
            **{f"socket.socket.{name}": (f"_socket.socket.{name}",) for name in _SOCKET},
            "select.poll.poll": ("select._Poll.poll",),
            **{
                f"socket.{name}": (f"_socket.{name}",)
                for name in ("gethostbyname", "gethostbyname_ex", "gethostbyaddr")
            },
        },
    ),
    # SMTP(host) connects in its constructor; every command is a round trip
    *_group(
        "net",
        _methods("smtplib.SMTP", "__init__", *_SMTP),
        advice=(
            "use aiosmtplib and await it, or offload the whole send with `await run_blocking(...)`"
        ),
        events={"smtplib.SMTP.connect": "smtplib.connect", "smtplib.SMTP.sendmail": "smtplib.send"},
    ),
    *_group(
        "net",
        [
            *(f"requests.api.{verb}" for verb in _HTTP_VERBS),
            *_methods("requests.sessions.Session", *_HTTP_VERBS, "send"),
        ],
        package="requests",
        aliases={f"requests.api.{verb}": (f"requests.{verb}",) for verb in _HTTP_VERBS},
    ),
    *_group(
        "net",
        [
            "urllib3._request_methods.RequestMethods.request",
            "urllib3.poolmanager.PoolManager.urlopen",
            "urllib3.connectionpool.HTTPConnectionPool.urlopen",
        ],
        package="urllib3",
    ),
    *_group(
        "net",
        [
            *(f"httpx._api.{verb}" for verb in _HTTP_VERBS),
            "httpx._api.stream",
            *_methods("httpx._client.Client", *_HTTP_VERBS, "send", "stream"),
        ],
        package="httpx",
        advice="use `httpx.AsyncClient` and await it",
        aliases={
            **{f"httpx._api.{verb}": (f"httpx.{verb}",) for verb in _HTTP_VERBS},
            **{
                f"httpx._client.Client.{name}": (f"httpx.Client.{name}",)
                for name in (*_HTTP_VERBS, "send", "stream")
            },
        },
    ),
    BlockingEntry(
        "botocore.client.BaseClient.*",
        "net",
        "use aioboto3/aiobotocore, or offload the client call with `await run_blocking(...)`",
        package="botocore",
    ),
    # chat and AI SDKs: sync clients over a sync HTTP client
    *_group(
        "net",
        [
            "slack_sdk.web.client.WebClient.*",
            "slack_sdk.web.base_client.BaseClient.api_call",
            *_methods("slack_sdk.webhook.client.WebhookClient", "send", "send_dict"),
        ],
        package="slack_sdk",
        advice=(
            "use `slack_sdk.web.async_client.AsyncWebClient` (or `AsyncWebhookClient`) and "
            "await it, or offload the call with `await run_blocking(...)`"
        ),
    ),
    *_group(
        "net",
        # every resource of a sync client (client.chat.completions.create ...) is one
        [
            "openai._resource.SyncAPIResource.*",
            *_methods("openai._base_client.SyncAPIClient", *_OPENAI_CLIENT),
        ],
        package="openai",
        advice="use `openai.AsyncOpenAI` and await it",
    ),
    # db
    *_group(
        "db",
        [
            "sqlite3.connect",
            *_methods("sqlite3.Connection", "execute", "executemany", "executescript"),
            *_methods("sqlite3.Connection", "commit", "rollback"),
            *_methods("sqlite3.Cursor", *_DBAPI_CURSOR),
        ],
        advice=(
            "use aiosqlite in an async layer, or keep the layer sync and make the endpoint `def`"
        ),
        events={"sqlite3.connect": "sqlite3.connect"},
        # the typeshed of older mypy releases (1.11) defines these in sqlite3.dbapi2
        aliases={
            "sqlite3.connect": ("_sqlite3.connect", "sqlite3.dbapi2.connect"),
            **{
                f"sqlite3.{cls}.{name}": (f"sqlite3.dbapi2.{cls}.{name}",)
                for cls, names in (
                    (
                        "Connection",
                        ("execute", "executemany", "executescript", "commit", "rollback"),
                    ),
                    ("Cursor", _DBAPI_CURSOR),
                )
                for name in names
            },
        },
    ),
    *_group(
        "db",
        [
            *_methods("sqlalchemy.orm.session.Session", *_SQLA_SESSION),
            *_methods("sqlalchemy.orm.query.Query", *_SQLA_QUERY),
            *_methods(
                "sqlalchemy.engine.base.Connection",
                "execute",
                "exec_driver_sql",
                "scalar",
                "scalars",
                "commit",
                "rollback",
            ),
            *_methods("sqlalchemy.engine.base.Engine", "connect", "begin"),
        ],
        package="sqlalchemy",
        advice=(
            "use `AsyncSession`/`AsyncConnection` in an async layer, or keep the layer "
            "sync and make the endpoint `def`"
        ),
        aliases={
            **{
                f"sqlalchemy.orm.session.Session.{name}": (f"sqlalchemy.orm.Session.{name}",)
                for name in _SQLA_SESSION
            },
        },
    ),
    # reflection and DDL: sqlalchemy.inspect(engine) connects (an Inspector of a Connection
    # does not), and every Inspector question is a query
    *_group(
        "db",
        [
            "sqlalchemy.engine.reflection.Inspector._init_engine",
            *_methods("sqlalchemy.engine.reflection.Inspector", *_SQLA_INSPECTOR),
            *_methods("sqlalchemy.sql.schema.MetaData", "reflect", "create_all", "drop_all"),
            *_methods("sqlalchemy.sql.schema.Table", "create", "drop"),
        ],
        package="sqlalchemy",
        advice=(
            "on an `AsyncEngine`, run it in `await connection.run_sync(...)`, or offload it "
            "with `await run_blocking(...)`"
        ),
    ),
    *_group(
        "db",
        [
            "psycopg.connection.Connection.connect",
            *_methods("psycopg.connection.Connection", "execute", "commit", "rollback"),
            *_methods("psycopg.cursor.Cursor", *_DBAPI_CURSOR),
        ],
        package="psycopg",
        advice="use `psycopg.AsyncConnection`, or keep the layer sync",
    ),
    *_group("db", ["psycopg2.connect"], package="psycopg2", advice="use asyncpg or psycopg 3"),
    *_group(
        "db",
        [
            *_methods(
                "authlib.oauth2.rfc6749.authorization_server.AuthorizationServer", *_AUTHLIB_SERVER
            ),
            "authlib.oauth2.rfc6749.resource_protector.ResourceProtector.validate_request",
        ],
        package="authlib",
        advice=(
            "authlib's OAuth 2 server is sync: its grants and token checks call your client "
            "and token storage; offload the call with `await run_blocking(...)`, or make the "
            "endpoint `def`"
        ),
    ),
    BlockingEntry(
        "redis.client.Redis.*",
        "db",
        "use `redis.asyncio.Redis` and await it",
        package="redis",
    ),
    # worker queues: publishing is a broker round trip, a result waits for the whole task
    *_group(
        "net",
        [
            *_methods("celery.app.task.Task", "delay", "apply_async"),
            "celery.app.base.Celery.send_task",
        ],
        package="celery",
        advice=(
            "await run_queued(func, ...) on a @queued(celery_app) function (it publishes and "
            "waits off the event loop), or await enqueue(func, ...) to send it and go on"
        ),
    ),
    *_group(
        "net",
        [
            *_methods("celery.result.AsyncResult", "get", "wait"),
            *_methods("celery.result.ResultSet", "get", "join"),
        ],
        package="celery",
        advice=(
            "it blocks until the task ends: await run_queued(func, ...) instead of "
            "delay(...).get(), or await queued_result(func, task_id) for a task sent earlier"
        ),
    ),
    *_group(
        "net",
        ["kombu.messaging.Producer.publish"],
        package="kombu",
        advice=(
            "publishing is a blocking broker round trip: await run_queued(...) / "
            "await enqueue(...) for Celery tasks, else await run_blocking(producer.publish, ...)"
        ),
    ),
    BlockingEntry(
        "pymongo.collection.Collection.*",
        "db",
        "use motor or pymongo's `AsyncMongoClient`",
        package="pymongo",
    ),
    # subprocess
    *_group(
        "subprocess",
        [
            "subprocess.run",
            "subprocess.Popen",
            "subprocess.call",
            "subprocess.check_call",
            "subprocess.check_output",
            "subprocess.getoutput",
            "subprocess.getstatusoutput",
            "subprocess.Popen.wait",
            "subprocess.Popen.communicate",
            "os.system",
            "os.popen",
            "os.wait",
            "os.waitpid",
            "os.wait3",
            "os.wait4",
            "os.posix_spawn",
            "os.posix_spawnp",
        ],
        events={
            "subprocess.run": "subprocess.Popen",
            "subprocess.Popen": "subprocess.Popen",
            "subprocess.call": "subprocess.Popen",
            "subprocess.check_call": "subprocess.Popen",
            "subprocess.check_output": "subprocess.Popen",
            "subprocess.getoutput": "subprocess.Popen",
            "subprocess.getstatusoutput": "subprocess.Popen",
            "os.system": "os.system",
            "os.popen": "os.system",
            "os.posix_spawn": "os.posix_spawn",
            "os.posix_spawnp": "os.posix_spawn",
        },
    ),
    # cpu: password hashing is slow on purpose; image work scales with the pixels
    *_group(
        "cpu",
        ["hashlib.pbkdf2_hmac", "hashlib.scrypt"],
        aliases={
            "hashlib.pbkdf2_hmac": ("_hashlib.pbkdf2_hmac",),
            "hashlib.scrypt": ("_hashlib.scrypt",),
        },
    ),
    *_group("cpu", ["bcrypt.hashpw", "bcrypt.checkpw", "bcrypt.kdf"], package="bcrypt"),
    *_group(
        "cpu",
        _methods("passlib.context.CryptContext", "hash", "verify", "verify_and_update"),
        package="passlib",
    ),
    *_group(
        "cpu",
        _methods("argon2._password_hasher.PasswordHasher", "hash", "verify"),
        package="argon2-cffi",
        aliases={
            f"argon2._password_hasher.PasswordHasher.{name}": (f"argon2.PasswordHasher.{name}",)
            for name in ("hash", "verify")
        },
    ),
    *_group(
        "cpu",
        _methods(
            "PIL.Image.Image",
            "resize",
            "thumbnail",
            "rotate",
            "transform",
            "filter",
            "convert",
            "save",
        ),
        package="Pillow",
    ),
    *_group("file", ["PIL.Image.open"], package="Pillow"),
    # parsing a document is CPU work that grows with its size
    *_group(
        "cpu",
        ["bs4.BeautifulSoup.__init__"],
        package="beautifulsoup4",
        advice=(
            "parse in a worker process: `await run_cpu(parse, html)` with a module-level "
            "function that builds the soup and returns plain data"
        ),
    ),
    *_group(
        "cpu",
        [
            *(f"lxml.etree.{name}" for name in _LXML_ETREE),
            *(f"lxml.html.{name}" for name in _LXML_HTML),
        ],
        package="lxml",
        # types-lxml defines them in private modules
        aliases={
            **{f"lxml.etree.{name}": (f"lxml.etree._module_func.{name}",) for name in _LXML_ETREE},
            **{f"lxml.html.{name}": (f"lxml.html._parse.{name}",) for name in _LXML_HTML},
        },
    ),
    # lock: waiting on a thread primitive parks the whole loop
    *_group(
        "lock",
        [
            "threading.Lock.acquire",
            "threading.RLock.acquire",
            "threading.Semaphore.acquire",
            "threading.Event.wait",
            "threading.Condition.wait",
            "threading.Thread.join",
            "queue.Queue.get",
            "queue.Queue.put",
            "concurrent.futures._base.Future.result",
        ],
        aliases={
            "threading.Lock.acquire": ("_thread.lock.acquire", "_thread.LockType.acquire"),
            "threading.RLock.acquire": ("_thread.RLock.acquire", "threading._RLock.acquire"),
            "concurrent.futures._base.Future.result": ("concurrent.futures.Future.result",),
        },
    ),
    # input
    *_group(
        "input",
        ["builtins.input", "getpass.getpass"],
        events={"builtins.input": "builtins.input"},
    ),
)

_extra: list[BlockingEntry] = []
_index: dict[str, BlockingEntry] | None = None


def entries() -> Iterator[BlockingEntry]:
    """Every entry: the built-in catalogue, then the user's."""
    yield from CATALOG
    yield from _extra


def by_name() -> Mapping[str, BlockingEntry]:
    """Every name and alias → its entry (user entries win over built-in ones)."""
    global _index
    if _index is None:
        index: dict[str, BlockingEntry] = {}
        for entry in entries():
            for name in entry.names:
                index[name] = entry
        _index = index
    return _index


def lookup(name: str) -> BlockingEntry | None:
    """The entry for a qualified function or method name, or ``None``."""
    return by_name().get(name)


def lookup_method(class_names: Iterable[str], method: str) -> BlockingEntry | None:
    """The entry for ``method`` on a receiver whose MRO has ``class_names`` (most derived first).

    A wildcard entry (``Class.*``) matches any public method of the class.
    """
    index = by_name()
    for class_name in class_names:
        found = index.get(f"{class_name}.{method}")
        if found is not None:
            return found
        if not method.startswith("_"):
            found = index.get(f"{class_name}.*")
            if found is not None:
                return found
    return None


def parse_entries(spec: Mapping[str, str] | Iterable[str], source: str) -> list[BlockingEntry]:
    """User entries from configuration.

    Either a mapping ``{"mylib.client.fetch": "net"}`` (the value may add
    advice after a colon: ``"net: use mylib.AsyncClient"``) or a list of
    ``"name = category[: advice]"`` strings, the shape ini files give.
    A bad category is an error naming ``source`` and the choices.
    """
    pairs: list[tuple[str, str]] = []
    if isinstance(spec, Mapping):
        pairs = [(str(name), str(value)) for name, value in spec.items()]
    else:
        for line in spec:
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            name, sep, value = text.partition("=")
            if not sep:
                from .errors import BoundaryError  # only on error: the mypy plugin reads this

                raise BoundaryError(
                    f"{source}: {line!r} is not `qualified.name = category`. "
                    f"Fix: write e.g. `mylib.client.fetch = net`."
                )
            pairs.append((name.strip(), value.strip()))
    parsed = []
    for name, value in pairs:
        category, _, advice = value.partition(":")
        category = category.strip()
        if category not in CATEGORIES or not name or " " in name:
            from .errors import BoundaryError

            raise BoundaryError(
                f"{source}: cannot add {name!r} = {value!r} to the blocking catalogue. "
                f"Fix: use a dotted qualified name and one of the categories "
                f"{', '.join(CATEGORIES)}."
            )
        parsed.append(BlockingEntry(name, category, advice.strip()))  # type: ignore[arg-type]
    return parsed


def extend(new_entries: Iterable[BlockingEntry]) -> None:
    """Add user entries (they take precedence over built-in ones with the same name)."""
    global _index
    _extra.extend(new_entries)
    _index = None


def reset() -> None:
    """Forget the user's entries (tests)."""
    global _index
    _extra.clear()
    _index = None


def snapshot() -> tuple[BlockingEntry, ...]:
    """The user's entries now, for `restore` (the guard adds its own for a while)."""
    return tuple(_extra)


def restore(saved: Iterable[BlockingEntry]) -> None:
    """Make the user's entries exactly ``saved`` (a `snapshot`) again."""
    global _index
    _extra[:] = saved
    _index = None
