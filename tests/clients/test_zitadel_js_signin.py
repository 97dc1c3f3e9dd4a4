"""npm @zitadel/client (Connect-ES with upstream's own session v2 descriptors: Connect JSON and
binary, gRPC, grpc-web) signs a user in with a passkey through Envoy, user first and discoverable.

(PyPI zitadel-client 4.1.9 cannot: its Challenges model is its RequestChallenges' WebAuthN, so it
drops `publicKeyCredentialRequestOptions` from every CreateSession answer, ZITADEL's own too.)"""

from __future__ import annotations

import pytest

from tests.conftest import ORIGIN, RP_ID
from tests.support.client_flow import Refused
from tests.support.gateway import Gateway
from tests.support.node_clients import node_client
from tests.support.signin import b64decode, enrol

CHALLENGE = {"webAuthN": {"domain": RP_ID, "userVerificationRequirement": "USER_VERIFICATION_REQUIREMENT_REQUIRED"}}


@pytest.mark.parametrize("protocol", ["connect-json", "connect-binary", "grpc", "grpc-web"])
def test_sign_in_with_zitadel_client(gw: Gateway, protocol: str) -> None:
    with node_client("zitadel-client", protocol, gw.base_url, gw.grpc.admin_token) as call:
        for discoverable in (False, True):
            user = enrol(gw.grpc, origin=ORIGIN, rp_id=RP_ID)
            request = {"challenges": CHALLENGE}
            if not discoverable:
                request["checks"] = {"user": {"loginName": user.username}}
            created = call("SessionService.CreateSession", request)
            options = created["challenges"]["webAuthN"]["publicKeyCredentialRequestOptions"]["publicKey"]
            assert bool(options.get("allowCredentials")) is not discoverable
            assertion = user.auth.authenticate(
                challenge=b64decode(options["challenge"]), origin=ORIGIN, rp_id=RP_ID, user_handle=user.user_id.encode()
            )
            check = {"sessionId": created["sessionId"], "checks": {"webAuthN": {"credentialAssertionData": assertion}}}
            changed = call("SessionService.SetSession", check)
            got = call(
                "SessionService.GetSession",
                {"sessionId": created["sessionId"], "sessionToken": changed["sessionToken"]},
            )
            assert got["session"]["factors"]["user"]["id"] == user.user_id
            with pytest.raises(Refused) as refused:
                call("SessionService.SetSession", check)
            assert (refused.value.code, refused.value.reason) == ("FAILED_PRECONDITION", "CHALLENGE_MISSING")
