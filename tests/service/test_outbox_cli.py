"""`passkeys outbox list|mark-sent`: what a mailer reads from the outbox and marks sent, on
SQLite and PostgreSQL, as an operator runs it."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from sqlalchemy import MetaData, create_engine, select, text
from zitadel.user.v2 import user_service_pb2 as pb

from tests.support.servers import Client


def outbox(client: Client, cwd: Path, *args: str, key: str | None = None) -> subprocess.CompletedProcess[str]:
    """`passkeys outbox ...` with the server's outbox key (PASSKEYS_OUTBOX_KEY), or `key`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSKEYS_")}
    env |= {"PASSKEYS_DATABASE_URL": client.url, "PASSKEYS_ADMIN_PAT_PATH": str(cwd / "admin.pat")}
    env["PASSKEYS_OUTBOX_KEY"] = client.settings.outbox_key if key is None else key
    return subprocess.run(
        [sys.executable, "-m", "passkeys", "outbox", *args], env=env, cwd=cwd, capture_output=True, text=True
    )


def test_a_mailer_lists_the_unsent_links_and_marks_them_sent(client: Client, tmp_path: Path) -> None:
    first, second = client.add_user(email="eve@example.com"), client.add_user(email="mallory@example.com")
    for user_id in (first, second):
        client.stub.CreatePasskeyRegistrationLink(
            pb.CreatePasskeyRegistrationLinkRequest(user_id=user_id, send_link={})
        )

    listed = outbox(client, tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    messages = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [(m["user_id"], m["recipient"], m["kind"]) for m in messages] == [
        (first, "eve@example.com", "passkey_registration_link"),
        (second, "mallory@example.com", "passkey_registration_link"),
    ]
    assert messages[0]["body"].startswith("http://localhost:8080/passkey/register?userID=")
    assert len(outbox(client, tmp_path, "list", "--limit", "1").stdout.splitlines()) == 1

    marked = outbox(client, tmp_path, "mark-sent", messages[0]["id"])
    assert (marked.returncode, marked.stdout) == (0, f"sent {messages[0]['id']}\n")
    assert [json.loads(line)["id"] for line in outbox(client, tmp_path, "list").stdout.splitlines()] == [
        messages[1]["id"]
    ]
    # Sent already, or unknown: an error, and nothing marked (the second stays unsent).
    again = outbox(client, tmp_path, "mark-sent", messages[1]["id"], messages[0]["id"])
    assert again.returncode == 1 and f"no unsent message {messages[0]['id']}" in again.stderr
    assert len(outbox(client, tmp_path, "list").stdout.splitlines()) == 1
    assert outbox(client, tmp_path, "list", "--limit", "0").returncode == 1


def _every_stored_value(url: str) -> str:
    """Every cell of every table, as text (bytes both as they are and in hex): the raw database."""
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    cells: list[str] = []
    try:
        with engine.connect() as conn:
            for table in meta.tables.values():
                for row in conn.execute(select(table)):
                    for value in row:
                        if isinstance(value, bytes):
                            cells += [value.decode("latin-1"), value.hex()]
                        else:
                            cells.append(
                                json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
                            )
    finally:
        engine.dispose()
    return "\n".join(cells)


def test_no_registration_code_is_kept_in_plaintext(client: Client, tmp_path: Path) -> None:
    user_id = client.add_user(email="eve@example.com")
    client.stub.CreatePasskeyRegistrationLink(pb.CreatePasskeyRegistrationLinkRequest(user_id=user_id, send_link={}))
    [message] = [json.loads(line) for line in outbox(client, tmp_path, "list").stdout.splitlines()]
    code = parse_qs(urlsplit(message["body"]).query)["code"][0]
    assert len(code) == 12
    stored = _every_stored_value(client.url)
    assert code not in stored and quote(code) not in stored
    assert message["body"] not in stored
    # Another key opens nothing (and lists nothing as if it had), nor does a body moved to another row.
    other_key = base64.b64encode(secrets.token_bytes(32)).decode()
    wrong = outbox(client, tmp_path, "list", key=other_key)
    assert (wrong.returncode, wrong.stdout) == (1, "")
    assert f"message {message['id']}" in wrong.stderr and code not in wrong.stderr
    # Delivered: not even the sealed link is kept.
    assert outbox(client, tmp_path, "mark-sent", message["id"]).returncode == 0
    engine = create_engine(client.url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT body FROM outbox")).scalar_one() == ""
    finally:
        engine.dispose()


def test_the_outbox_key_file_is_made_once_readable_by_its_owner_only(tmp_path: Path) -> None:
    key_path = tmp_path / "data" / "outbox.key"  # the default ./data/outbox.key, beside the database
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSKEYS_")}

    def migrate() -> str:
        done = subprocess.run([sys.executable, "-m", "passkeys", "migrate"], env=env, cwd=tmp_path, capture_output=True)
        assert done.returncode == 0, done.stderr
        return key_path.read_text()

    first = migrate()
    assert key_path.stat().st_mode & 0o777 == 0o600
    assert migrate() == first and len(base64.b64decode(first)) == 32
    assert [p.name for p in key_path.parent.iterdir() if p.name.startswith(".")] == []  # no draft left
