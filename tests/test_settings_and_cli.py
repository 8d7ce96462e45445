"""Settings come from the environment and are validated at start; the user and token commands."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from spyglass.accounts.models import ApiToken, Membership, User
from spyglass.cli.main import main
from spyglass.lib import config, tokens
from tests.appservers import migrated_sqlite


def _spyglass(args, env_extra=None, data_dir=None):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({"SPYGLASS_DATA_DIR": str(data_dir)} if data_dir else {})
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "spyglass.cli.main", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize(
    "variable, value, fragment",
    [
        ("SPYGLASS_EMAIL_URL", "mailto:me@example.com", "SPYGLASS_EMAIL_URL must look like"),
        ("SPYGLASS_BASE_URL", "spyglass.example.com", "SPYGLASS_BASE_URL must be an http(s) URL"),
        ("SPYGLASS_RETENTION_DAYS", "ninety", "SPYGLASS_RETENTION_DAYS must be a whole number"),
        ("SPYGLASS_SECRET_KEY", "short", "at least 32 characters"),
        ("DATABASE_URL", "mysql://x@y/z", "DATABASE_URL must be"),
        ("DATABASE_URL", "postgres://u@db1:5432,db2:port/spyglass", "DATABASE_URL: 'db2:port' is not a host[:port]"),
        ("DATABASE_URL", "postgres://u@db1,,db2/spyglass", "DATABASE_URL: an empty entry is not a host[:port]"),
        ("DATABASE_URL", "postgres://u@db1,db2/?target_session_attrs=read-write", "DATABASE_URL names several hosts"),
        ("DATABASE_URL", "postgres://u@db1,db2/sg?target_session_attrs=any", "needs target_session_attrs=read-write"),
        ("SPYGLASS_READ_DATABASE_URL", "postgres://u@replica1/sg", "read replicas are PostgreSQL only"),
        ("SPYGLASS_TRUSTED_PROXIES", "10.0.0.0/8, proxy.example", "SPYGLASS_TRUSTED_PROXIES: 'proxy.example' is not"),
        ("SPYGLASS_TRUSTED_PROXIES", "10.0.0.0/33", "SPYGLASS_TRUSTED_PROXIES: '10.0.0.0/33' is not"),
        ("SPYGLASS_HSTS_SECONDS", "a year", "SPYGLASS_HSTS_SECONDS must be a whole number"),
        ("SPYGLASS_HSTS_SECONDS", "600", "SPYGLASS_HSTS_SECONDS needs an https:// SPYGLASS_BASE_URL"),
        ("SPYGLASS_LOG_LEVEL", "LOUD", "SPYGLASS_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("SPYGLASS_METRICS_TOKEN", "short", "SPYGLASS_METRICS_TOKEN must be at least 16 printable ASCII characters"),
    ],
)
def test_bad_settings_stop_the_start_with_a_message_naming_the_variable(tmp_path, variable, value, fragment):
    result = _spyglass(["migrate"], {variable: value}, tmp_path)
    assert result.returncode == 2
    assert "configuration error" in result.stderr and fragment in result.stderr


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("mysql://u@replica1/sg", "SPYGLASS_READ_DATABASE_URL: an entry of scheme 'mysql'"),
        ("replica1.example:5432", "SPYGLASS_READ_DATABASE_URL: an entry without postgres://"),
        ("postgres://u@r1/sg,,postgres://u@r2/sg", "SPYGLASS_READ_DATABASE_URL: an empty entry"),
        ("postgres://u@r1/sg,", "SPYGLASS_READ_DATABASE_URL: an empty entry"),
        ("postgres://u@r1:5432,r2:5432/sg", "SPYGLASS_READ_DATABASE_URL: each replica is a URL of its own"),
        ("postgres://u@r1:5432/", "SPYGLASS_READ_DATABASE_URL: a URL names no database"),
        ("postgres://u@r1/sg, postgres://u@r2:99999/sg", "SPYGLASS_READ_DATABASE_URL is not a valid database URL"),
    ],
)
def test_a_bad_read_database_url_stops_the_start_naming_it(tmp_path, value, fragment):
    """With a PostgreSQL primary (never reached: the settings stop the start first)."""
    env = {"DATABASE_URL": "postgres://u@127.0.0.1:1/sg", "SPYGLASS_READ_DATABASE_URL": value}
    result = _spyglass(["migrate"], env, tmp_path)
    assert result.returncode == 2
    assert "configuration error" in result.stderr and fragment in result.stderr


def test_read_database_urls_become_replica_databases_mirroring_the_test_database(tmp_path):
    primary = config.database("postgres://sg@db1.example:5432/spyglass", tmp_path)
    assert config.read_databases(None, primary, tmp_path) == []
    first, second = config.read_databases(
        "postgres://sg:p%40ss@replica1.example/spyglass?sslmode=require, postgresql://sg@replica2.example:6432/spyglass",
        primary,
        tmp_path,
    )
    assert (first["HOST"], first["PORT"], first["PASSWORD"], first["NAME"]) == (
        "replica1.example",
        "",
        "p@ss",
        "spyglass",
    )
    assert first["OPTIONS"] == {"sslmode": "require", "connect_timeout": config.REPLICA_CONNECT_TIMEOUT}
    assert (second["HOST"], second["PORT"]) == ("replica2.example", 6432)
    assert first["TEST"] == second["TEST"] == {"MIRROR": "default"}


def test_email_urls_map_to_smtp_settings(tmp_path):
    tls = config.email_settings("smtp+tls://user%40x:p%3Ass@mail.example.com", tmp_path)
    assert (tls["EMAIL_HOST"], tls["EMAIL_PORT"], tls["EMAIL_USE_TLS"]) == ("mail.example.com", 587, True)
    assert (tls["EMAIL_HOST_USER"], tls["EMAIL_HOST_PASSWORD"]) == ("user@x", "p:ss")
    ssl = config.email_settings("smtp+ssl://mail.example.com", tmp_path)
    assert (ssl["EMAIL_PORT"], ssl["EMAIL_USE_SSL"]) == (465, True)
    outbox = config.email_settings(None, tmp_path)
    assert outbox["EMAIL_FILE_PATH"] == str(tmp_path / "outbox")


def test_a_multi_host_database_url_becomes_libpqs_host_and_port_lists(tmp_path):
    """libpq's multi-host form (dj-database-url cannot parse it): psycopg hands HOST and PORT to libpq as they are,
    which tries the hosts in order and keeps the first that takes writes."""
    db = config.database("postgres://sg:p%40ss@db1.example:5432,[::1]:5433,db3/spyglass?sslmode=require", tmp_path)
    assert (db["HOST"], db["PORT"], db["NAME"]) == ("db1.example,::1,db3", "5432,5433,5432", "spyglass")
    assert (db["USER"], db["PASSWORD"]) == ("sg", "p@ss")
    assert db["OPTIONS"] == {"sslmode": "require", "target_session_attrs": "read-write", "connect_timeout": 5}
    assert db["CONN_MAX_AGE"] == 60 and db["CONN_HEALTH_CHECKS"]
    told = config.database("postgres://sg@a:1,b:2/sg?target_session_attrs=primary&connect_timeout=2", tmp_path)
    assert told["OPTIONS"] == {"target_session_attrs": "primary", "connect_timeout": 2}
    single = config.database("postgres://sg@db1.example:6432/sg", tmp_path)
    assert (single["HOST"], single["PORT"], "OPTIONS" in single) == ("db1.example", 6432, False)


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SPYGLASS_SECRET_KEY", raising=False)
    first = config.secret_key(tmp_path)
    assert len(first) >= 40 and config.secret_key(tmp_path) == first
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_bad_int_setting_raises(monkeypatch):
    monkeypatch.setenv("X_TEST_INT", "-4")
    with pytest.raises(ImproperlyConfigured, match="X_TEST_INT must be at least 1"):
        config.env_int("X_TEST_INT", 5, minimum=1)


def test_user_create_makes_org_groups_and_membership_and_adds_groups_later(db, capsys):
    for groups in (["Ops"], ["Lab"]):
        args = [
            "user",
            "create",
            "--email",
            "New@Example.com",
            "--password",
            "pw-123456",
            "--name",
            "Nia",
            "--org",
            "Initech",
            "--role",
            "Account Admin",
        ]
        for g in groups:
            args += ["--account-group", g]
        with pytest.raises(SystemExit) as exit_info:
            main(args)
        assert exit_info.value.code == 0
    user = User.objects.get(email="new@example.com")
    assert user.check_password("pw-123456")
    groups = sorted(Membership.objects.filter(user=user).values_list("account_group__name", flat=True))
    assert groups == ["Lab", "Ops"]
    assert user.default_account_group.name == "Ops"


def test_user_create_refuses_an_unknown_role(db, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "user",
                "create",
                "--email",
                "a@b.c",
                "--password",
                "p",
                "--org",
                "O",
                "--account-group",
                "G",
                "--role",
                "Admin",
            ]
        )
    assert exit_info.value.code == 2
    assert "unknown role 'Admin'" in capsys.readouterr().err
    assert not User.objects.exists()


def test_token_create_prints_only_the_token_and_it_works(db, capsys, settings):
    with pytest.raises(SystemExit):
        main(
            [
                "user",
                "create",
                "--email",
                "t@x.test",
                "--password",
                "pw",
                "--org",
                "O",
                "--account-group",
                "G",
                "--role",
                "Regular User",
            ]
        )
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["token", "create", "--email", "t@x.test"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    token = out.strip()
    assert out == token + "\n" and len(token) >= 22
    assert ApiToken.objects.get(user__email="t@x.test").digest == tokens.digest(settings.SECRET_KEY, token)


def test_the_openapi_document_lists_every_v6_endpoint(client):
    schema = client.get("/v6/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    paths = set(schema["paths"])
    for path in (
        "/v6/tests/{test_type}/new",
        "/v6/net/metrics/{test_id}",
        "/v6/web/http-server/{test_id}",
        "/v6/dns/server/{test_id}",
        "/v6/account-groups",
        "/v6/agents/{agent_id}",
        "/v6/permissions",
    ):
        assert any(p.startswith(path) for p in paths), path
    docs = client.get("/v6/docs/")
    assert docs.status_code == 200 and b"redoc" in docs.content.lower()


def test_each_api_version_has_its_own_openapi_document_and_docs(client):
    v6 = set(client.get("/v6/openapi.json").json()["paths"])
    v7 = client.get("/v7/openapi.json").json()
    assert v7["info"]["version"] == "7"
    assert {"/v7/account-groups", "/v7/agents/{agent_id}", "/v7/users/current"} <= set(v7["paths"])
    assert not any(p.startswith("/v7/") for p in v6) and all(p.startswith("/v7/") for p in v7["paths"])
    problem = v7["paths"]["/v7/agents"]["get"]["responses"]["404"]["content"]
    assert list(problem) == ["application/problem+json"]
    docs = client.get("/v7/docs/")
    assert docs.status_code == 200 and b"/v7/openapi.json" in docs.content


def test_passwords_are_stored_as_salted_pbkdf2_hashes_never_as_given(tmp_path):
    """The product's own settings (the suite speeds passwords up in-process): `user create` in a process of its own."""
    import sqlite3

    args = ["user", "create", "--email", "pat@example.com", "--password", "s3cret-pass-word", "--name", "Pat"]
    args += ["--org", "Example", "--account-group", "Ops", "--role", "Account Admin"]
    migrated_sqlite(tmp_path)
    created = _spyglass(args, data_dir=tmp_path)
    assert created.returncode == 0, created.stderr
    with sqlite3.connect(tmp_path / "spyglass.sqlite3") as db:
        (stored,) = db.execute("SELECT password FROM accounts_user WHERE email = 'pat@example.com'").fetchone()
    algorithm, iterations, salt, digest = stored.split("$")
    assert algorithm == "pbkdf2_sha256" and int(iterations) >= 600_000 and salt and digest
    assert "s3cret-pass-word" not in stored
