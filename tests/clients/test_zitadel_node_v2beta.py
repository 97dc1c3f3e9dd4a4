"""npm @zitadel/node's ready-made createUserClient (nice-grpc, gRPC), which calls
zitadel.user.v2beta.UserService, through Envoy: upstream's four v2beta RPCs and the refusals, with
ZITADEL's ErrorDetail as the client reads it."""

from __future__ import annotations

from zitadel.user.v2 import user_service_pb2 as pb

from tests.support.client_flow import check_v2beta_refusals, v2beta_flow
from tests.support.gateway import Gateway
from tests.support.node_clients import node_client


def test_create_user_client_enrols_a_passkey_and_sees_the_refusals(gw: Gateway, stranger: str) -> None:
    # nice-grpc takes host:port.
    with node_client("zitadel-node-v2beta", "grpc", gw.base_url.removeprefix("http://"), gw.grpc.admin_token) as call:
        flow = v2beta_flow(call)
        check_v2beta_refusals(call, user_id=flow.user_id, stranger=stranger)
    # The same users and passkeys as v2 sees them.
    listed = gw.grpc.stub.ListPasskeys(pb.ListPasskeysRequest(user_id=flow.user_id)).result
    first, by_code = listed
    assert (first.id, first.name, first.state, by_code.state) == (flow.passkey_id, "Laptop", 2, 1)
