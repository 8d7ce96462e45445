"""Reading and validating settings from the environment. Errors name the variable and what it should look like."""

import os
import re
import secrets
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = env(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = env(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


def env_networks(name: str) -> tuple:
    """Comma-separated IP addresses and CIDR networks; none when unset."""
    from .addresses import parse_networks

    try:
        return parse_networks(env(name))
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from None


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (given in upper case), read case-insensitively."""
    raw = env(name)
    if raw is None:
        return default
    if raw.upper() not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return raw.upper()


def metrics_token(value: str | None) -> str | None:
    """SPYGLASS_METRICS_TOKEN: unset (the metrics endpoint is off), or a token of at least 16 printable ASCII characters
    without spaces."""
    if value is None:
        return None
    if len(value) < 16 or not value.isascii() or not value.isprintable() or any(c.isspace() for c in value):
        raise ImproperlyConfigured(
            "SPYGLASS_METRICS_TOKEN must be at least 16 printable ASCII characters without spaces "
            "(e.g. the output of: python3 -c 'import secrets; print(secrets.token_urlsafe(32))')"
        )
    return value


def data_dir() -> Path:
    path = Path(env("SPYGLASS_DATA_DIR") or "./.spyglass").expanduser().resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(f"SPYGLASS_DATA_DIR {path} cannot be created: {exc}") from None
    return path


def static_root(directory: Path) -> Path:
    """SPYGLASS_STATIC_ROOT, else DATA_DIR/static: where the static files are collected (made when missing)."""
    value = env("SPYGLASS_STATIC_ROOT")
    path = Path(value).expanduser().resolve() if value else directory / "static"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(f"SPYGLASS_STATIC_ROOT {path} cannot be created: {exc}") from None
    return path


def secret_key(directory: Path) -> str:
    """SPYGLASS_SECRET_KEY, or a key generated once and kept in the data dir (so tokens survive restarts)."""
    key = env("SPYGLASS_SECRET_KEY")
    if key:
        if len(key) < 32:
            raise ImproperlyConfigured("SPYGLASS_SECRET_KEY must be at least 32 characters")
        return key
    path = directory / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def email_settings(url: str | None, directory: Path) -> dict:
    """SPYGLASS_EMAIL_URL → Django e-mail settings. Without it, messages are written to the data dir's outbox/."""
    if not url:
        return {
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(directory / "outbox"),
        }
    parts = urlsplit(url)
    schemes = {"smtp": (False, False), "smtp+tls": (True, False), "smtp+ssl": (False, True)}
    if parts.scheme not in schemes or not parts.hostname:
        raise ImproperlyConfigured(
            "SPYGLASS_EMAIL_URL must look like smtp://user:pass@host:587, smtp+tls://… or smtp+ssl://…"
        )
    use_tls, use_ssl = schemes[parts.scheme]
    try:
        port = parts.port or (465 if use_ssl else 587 if use_tls else 25)
    except ValueError:
        raise ImproperlyConfigured("SPYGLASS_EMAIL_URL has an invalid port") from None
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port,
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": use_tls,
        "EMAIL_USE_SSL": use_ssl,
        "EMAIL_TIMEOUT": 20,
    }


def base_url(value: str | None) -> str:
    value = (value or "http://127.0.0.1:8000").rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImproperlyConfigured(
            f"SPYGLASS_BASE_URL must be an http(s) URL such as https://spyglass.example.com, got {value!r}"
        )
    return value


def origin(url: str) -> str:
    """scheme://host[:port] of an http(s) URL, as browsers send it in the Origin header."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def share_origin(template: str) -> str | None:
    """The Origin of pages under SPYGLASS_SHARE_URL_TEMPLATE; with {linkId} in the host name, a wildcard over the
    domain below the label that holds it (https://{linkId}.share.example.com/ → https://*.share.example.com), or
    None when no domain is below it."""
    scheme, rest = template.split("://", 1)
    host = rest.split("/", 1)[0]
    if "{linkId}" not in host:
        return f"{scheme}://{host}"
    _, _, domain = host.split("{linkId}", 1)[1].partition(".")
    return f"{scheme}://*.{domain}" if domain else None


# libpq's target_session_attrs values that only ever connect to a server taking writes: the app writes on every
# request (rate limits, visits, sessions), so a multi-host URL that could land on a standby is refused at start.
WRITABLE_SESSION_ATTRS = ("read-write", "primary")
# Seconds libpq waits for each host of a multi-host URL before it tries the next one (unless the URL says
# connect_timeout=): a host that vanished from the network must not hold a request until gunicorn's timeout.
MULTI_HOST_CONNECT_TIMEOUT = 5


def database(url: str | None, directory: Path, variable: str = "DATABASE_URL") -> dict:
    """DATABASE_URL → Django's DATABASES["default"]: SQLite in the data dir when unset; postgres://… or sqlite:///…;
    and libpq's multi-host form postgres://user@h1:5432,h2:5433/db?target_session_attrs=read-write, which
    dj-database-url cannot parse, as HOST "h1,h2" and PORT "5432,5433" (psycopg hands both to libpq, which tries the
    hosts in order and keeps the first that takes writes)."""
    if not url:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(directory / "spyglass.sqlite3"),
            # Kept open across requests, as the PostgreSQL connection is: opening one (the file, the PRAGMAs below,
            # Django's SQL functions) cost 1-2 ms and dropped SQLite's prepared statements on every request.
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    parts = urlsplit(url)
    hosts = _multi_hosts(parts, variable) if "," in parts.netloc else None
    if hosts is not None:  # parsed with the first host standing in for all of them
        userinfo = parts.netloc.rpartition("@")[0]
        url = parts._replace(netloc=(userinfo + "@" if userinfo else "") + "placeholder").geturl()
    try:
        settings: dict = dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
    except Exception as exc:  # dj-database-url raises several types for a bad URL
        raise ImproperlyConfigured(f"{variable} is not a valid database URL: {exc}") from None
    if settings["ENGINE"] not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
        raise ImproperlyConfigured(f"{variable} must be postgres://… or sqlite:///…")
    if hosts is not None:
        settings["HOST"] = ",".join(host for host, _ in hosts)
        settings["PORT"] = ",".join(port for _, port in hosts)
        options = settings.setdefault("OPTIONS", {})
        options.setdefault("target_session_attrs", "read-write")
        options.setdefault("connect_timeout", MULTI_HOST_CONNECT_TIMEOUT)
        if options["target_session_attrs"] not in WRITABLE_SESSION_ATTRS:
            raise ImproperlyConfigured(
                f"{variable} with several hosts needs target_session_attrs=read-write (or primary), so that "
                f"spyglass only ever connects to the server that takes writes; got {options['target_session_attrs']!r}"
            )
    return settings


READ_DATABASE_VARIABLE = "SPYGLASS_READ_DATABASE_URL"
REPLICA_CONNECT_TIMEOUT = 3  # seconds: an unreachable replica costs a block this much, then the primary serves it


def read_databases(raw: str | None, primary: dict, directory: Path) -> list[dict]:
    """SPYGLASS_READ_DATABASE_URL → the replicas' Django settings, in the order given (none when unset): one or more
    postgres:// URLs, comma separated, each one server (a streaming replica of DATABASE_URL's primary). Refused with
    SQLite (replicas are PostgreSQL's) and for anything that is not such a URL. In test runs a replica mirrors the
    test database (no second test database is made)."""
    variable = READ_DATABASE_VARIABLE
    if not raw:
        return []
    if primary["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured(
            f"{variable} is set but DATABASE_URL is SQLite: read replicas are PostgreSQL only (streaming "
            "replicas of a PostgreSQL primary); unset it or give DATABASE_URL a postgres:// URL"
        )
    example = "postgres://user:pass@replica1.example:5432/spyglass,postgres://user:pass@replica2.example:5432/spyglass"
    if re.search(r"(^|,)\s*(,|$)", raw.strip()):
        raise ImproperlyConfigured(f"{variable}: an empty entry; give one or more postgres:// URLs, such as {example}")
    replicas = []
    for url in re.split(r",\s*(?=[A-Za-z][A-Za-z0-9+.-]*://)", raw.strip()):
        parts = urlsplit(url.strip())
        if parts.scheme not in ("postgres", "postgresql", "pgsql") or not parts.netloc:
            shown = f"an entry of scheme {parts.scheme!r}" if "://" in url else "an entry without postgres://"
            raise ImproperlyConfigured(f"{variable}: {shown}; give one or more postgres:// URLs, such as {example}")
        if "," in parts.netloc:
            raise ImproperlyConfigured(
                f"{variable}: each replica is a URL of its own (one host each), comma separated, such as {example}"
            )
        replica = database(url.strip(), directory, variable)
        if not replica.get("NAME"):
            raise ImproperlyConfigured(f"{variable}: a URL names no database, such as {example}")
        replica.setdefault("OPTIONS", {}).setdefault("connect_timeout", REPLICA_CONNECT_TIMEOUT)
        replica["TEST"] = {"MIRROR": "default"}
        replicas.append(replica)
    return replicas


def _multi_hosts(parts, variable: str) -> list[tuple[str, str]]:
    """[(host, port)] of a multi-host netloc (user:pass@h1:5432,[::1]:5433,h3); ImproperlyConfigured naming
    DATABASE_URL when it is malformed."""
    example = "postgres://user:pass@db1.example:5432,db2.example:5432/spyglass?target_session_attrs=read-write"
    if parts.scheme not in ("postgres", "postgresql", "pgsql", "postgis"):
        raise ImproperlyConfigured(f"{variable}: only postgres:// URLs may name several hosts, such as {example}")
    if not parts.path.strip("/"):
        raise ImproperlyConfigured(f"{variable} names several hosts but no database, such as {example}")
    for name, values in parse_qs(parts.query, keep_blank_values=True).items():
        if name in ("host", "hostaddr", "port"):
            raise ImproperlyConfigured(f"{variable} names its hosts in the address; drop ?{name}=")
        if len(values) != 1 or not values[0]:
            raise ImproperlyConfigured(f"{variable}: ?{name}= needs one value")
    hosts: list[tuple[str, str]] = []
    for item in parts.netloc.rpartition("@")[2].split(","):
        match = re.fullmatch(r"(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9_.-]+))(?::([0-9]{1,5}))?", item)
        port = (match[3] or "5432") if match else "0"
        if not match or not 1 <= int(port) <= 65535:
            raise ImproperlyConfigured(
                f"{variable}: {repr(item) if item else 'an empty entry'} is not a host[:port] (each of several "
                "hosts is a name or address, an IPv6 address in brackets, and an optional port from 1 to 65535), "
                f"such as {example}"
            )
        hosts.append((match[1] or match[2], port))
    return hosts
