"""`passkeys outbox list|mark-sent`: what a mailer reads from the outbox and marks sent, on
SQLite and PostgreSQL, as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from zitadel.user.v2 import user_service_pb2 as pb

from tests.support.servers import Client


def outbox(client: Client, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSKEYS_")}
    env |= {"PASSKEYS_DATABASE_URL": client.url, "PASSKEYS_ADMIN_PAT_PATH": str(cwd / "admin.pat")}
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
