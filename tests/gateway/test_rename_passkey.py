"""Our extension passkeys.v1.PasskeyDetailsService/RenamePasskey over every way in (gRPC to the
server and through Envoy, grpc-web, REST PATCH /passkeys/v1/users/{user_id}/passkeys/{passkey_id},
Connect JSON) on SQLite and PostgreSQL: the name under AddHumanUser's text rules, one event, and
nothing else changed; every refusal changes nothing at all."""

from __future__ import annotations

import json

import grpc
import pytest
from passkeysapi.v1 import passkey_details_pb2 as pb
from zitadel.user.v2 import user_service_pb2 as user_pb

from tests.conftest import ORIGIN, RP_ID
from tests.support.databases import snapshot
from tests.support.gateway import Gateway
from tests.support.registration import rows
from tests.support.signin import enrol
from tests.support.ways import WAYS, Answer, call

SERVICE = "passkeys.v1.PasskeyDetailsService"
INVALID, NOT_FOUND, PRECONDITION, UNAUTHENTICATED = (
    grpc.StatusCode.INVALID_ARGUMENT.value[0],
    grpc.StatusCode.NOT_FOUND.value[0],
    grpc.StatusCode.FAILED_PRECONDITION.value[0],
    grpc.StatusCode.UNAUTHENTICATED.value[0],
)
# AddHumanUser's refused names (tests/service/test_names.py, test_add_human_user.py): empty, blank,
# too long, a bidi override, zero-width space, C1 control, line separator, NUL.
BAD_NAMES = ["", "   ", "x" * 201, "Key\u202egpj.exe", "Key\u200b", "Key\x9b31m", "a\u2028b", "a\x00b"]


def rename(gw: Gateway, way: str, user_id: str, passkey_id: str, name: str, token: str | None = "admin") -> Answer:
    body = {"name": name}
    return call(
        gw,
        way,
        SERVICE,
        "RenamePasskey",
        pb.RenamePasskeyRequest(user_id=user_id, passkey_id=passkey_id, name=name),
        pb.RenamePasskeyResponse,
        token=gw.grpc.admin_token if token == "admin" else token,
        rest=("PATCH", f"/passkeys/v1/users/{user_id}/passkeys/{passkey_id}", body),
    )


def payload(value: object) -> dict:
    return value if isinstance(value, dict) else json.loads(str(value))


@pytest.mark.parametrize("way", WAYS)
def test_rename_changes_the_name_alone_with_one_event(gw: Gateway, way: str) -> None:
    enrolled = enrol(gw.grpc, origin=ORIGIN, rp_id=RP_ID)
    other = enrol(gw.grpc, origin=ORIGIN, rp_id=RP_ID)
    before = snapshot(gw.grpc.url)
    (user_before,) = rows(gw.grpc.url, "SELECT sequence FROM users WHERE id = :id", id=enrolled.user_id)

    # Fullwidth letters and doubled spaces: stored in PRECIS NicknameCasePreserved form, as names are.
    answer = rename(gw, way, enrolled.user_id, enrolled.passkey_id, "\uff37ork  laptop")

    assert answer.code == 0, answer
    details = answer.message.details
    assert details.sequence == user_before["sequence"] + 1
    assert details.resource_owner
    after = snapshot(gw.grpc.url)
    # Only the passkey's name, the user's sequence and change time, and one new event differ.
    changed = {table for table in after if after[table] != before[table]}
    assert changed == {"passkeys", "users", "events"}
    (passkey,) = rows(gw.grpc.url, "SELECT * FROM passkeys WHERE id = :id", id=enrolled.passkey_id)
    (was,) = [r for r in before["passkeys"] if r[0] == enrolled.passkey_id]
    (now,) = [r for r in after["passkeys"] if r[0] == enrolled.passkey_id]
    assert [i for i, (a, b) in enumerate(zip(was, now, strict=True)) if a != b] == [list(passkey).index("name")]
    assert passkey["name"] == "Work laptop"
    assert [r for r in after["passkeys"] if r[0] != enrolled.passkey_id] == [
        r for r in before["passkeys"] if r[0] != enrolled.passkey_id
    ]
    events = rows(
        gw.grpc.url,
        "SELECT sequence, type, payload FROM events WHERE user_id = :id ORDER BY sequence DESC",
        id=enrolled.user_id,
    )
    assert (events[0]["sequence"], events[0]["type"]) == (details.sequence, "user.human.passkey.renamed")
    assert payload(events[0]["payload"]) == {
        "passkey_id": enrolled.passkey_id,
        "name": "Work laptop",
        "previous_name": "k",
    }
    assert len(after["events"]) == len(before["events"]) + 1
    assert [r for r in after["users"] if r[0] != enrolled.user_id] == [
        r for r in before["users"] if r[0] != enrolled.user_id
    ]
    assert other.user_id in {r[0] for r in after["users"]}
    # Upstream's ListPasskeys shows the new name.
    listed = gw.grpc.stub.ListPasskeys(user_pb.ListPasskeysRequest(user_id=enrolled.user_id))
    assert [p.name for p in listed.result] == ["Work laptop"]

    # Its current name again (in any width): nothing changes, the details are as they stand.
    same = snapshot(gw.grpc.url)
    again = rename(gw, way, enrolled.user_id, enrolled.passkey_id, "Work laptop")
    assert (again.code, again.message.details.sequence) == (0, details.sequence)
    assert snapshot(gw.grpc.url) == same


@pytest.mark.parametrize("way", WAYS)
def test_refused_renames_store_nothing(gw: Gateway, way: str) -> None:
    enrolled = enrol(gw.grpc, origin=ORIGIN, rp_id=RP_ID)
    someone_else = enrol(gw.grpc, origin=ORIGIN, rp_id=RP_ID)
    pending = gw.grpc.stub.RegisterPasskey(user_pb.RegisterPasskeyRequest(user_id=enrolled.user_id)).passkey_id
    user, key = enrolled.user_id, enrolled.passkey_id
    # No token: through Envoy an empty authorization header replaces the default one.
    no_token = "TOKEN_MISSING" if way in ("grpc", "grpc-via-envoy") else "TOKEN_MALFORMED"
    before = snapshot(gw.grpc.url)

    for bad in BAD_NAMES:
        answer = rename(gw, way, user, key, bad)
        assert (answer.code, answer.reason, answer.metadata.get("field")) == (INVALID, "INVALID_FIELD", "name"), bad
    cases = [
        # Another user's passkey is as absent as one that never existed.
        ((user, someone_else.passkey_id, "x", "admin"), (NOT_FOUND, "PASSKEY_NOT_FOUND")),
        ((user, "nothing", "x", "admin"), (NOT_FOUND, "PASSKEY_NOT_FOUND")),
        ((user, pending, "x", "admin"), (PRECONDITION, "PASSKEY_NOT_READY")),
        (("nobody", key, "x", "admin"), (NOT_FOUND, "USER_NOT_FOUND")),
        ((user, key, "x", None), (UNAUTHENTICATED, no_token)),
        ((user, key, "x", "not-a-token"), (UNAUTHENTICATED, "TOKEN_INVALID")),
    ]
    for (user_id, passkey_id, name, token), expected in cases:
        answer = rename(gw, way, user_id, passkey_id, name, token)
        assert (answer.code, answer.reason) == expected, (user_id, passkey_id, token)

    assert snapshot(gw.grpc.url) == before
