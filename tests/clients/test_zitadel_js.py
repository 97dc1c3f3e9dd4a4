"""npm @zitadel/client (Connect-ES: Connect JSON, Connect binary, gRPC, grpc-web) and @zitadel/node's
v2 service definitions (nice-grpc, gRPC) through Envoy: the whole passkey flow and the refusals.
@zitadel/node's ready-made createUserClient (v2beta): test_zitadel_node_v2beta.py."""

from __future__ import annotations

import pytest

from tests.support.client_flow import check_refusals, passkey_flow
from tests.support.gateway import Gateway
from tests.support.node_clients import node_client

CLIENTS = [
    ("zitadel-client", "connect-json"),
    ("zitadel-client", "connect-binary"),
    ("zitadel-client", "grpc"),
    ("zitadel-client", "grpc-web"),
    ("zitadel-node", "grpc"),
]


@pytest.mark.parametrize(("client", "protocol"), CLIENTS)
def test_the_passkey_flow_and_its_refusals(gw: Gateway, stranger: str, client: str, protocol: str) -> None:
    # nice-grpc takes host:port; Connect-ES a URL.
    base = gw.base_url.removeprefix("http://") if client == "zitadel-node" else gw.base_url
    with node_client(client, protocol, base, gw.grpc.admin_token) as call:
        flow = passkey_flow(call)
        check_refusals(call, user_id=flow.user_id, stranger=stranger)
