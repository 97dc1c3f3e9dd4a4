"""passkeys.v1.PasskeyDetailsService: what we know about a passkey beyond upstream's Passkey
message (which stays exactly upstream's), from the same use case as ListPasskeys."""

from __future__ import annotations

import grpc
from passkeysapi.v1 import passkey_details_pb2 as pb
from passkeysapi.v1 import passkey_details_pb2_grpc as pb_grpc

from passkeys.api import convert
from passkeys.api.servicer import UserService


class PasskeyDetailsService(pb_grpc.PasskeyDetailsServiceServicer):
    """Authenticates and authorizes exactly as UserService (it shares its caller and use cases)."""

    def __init__(self, users: UserService) -> None:
        self.users = users

    def ListPasskeyDetails(
        self, request: pb.ListPasskeyDetailsRequest, context: grpc.ServicerContext
    ) -> pb.ListPasskeyDetailsResponse:
        listing = self.users.passkeys.list(caller=self.users._caller(context), user_id=request.user_id)
        response = pb.ListPasskeyDetailsResponse()
        convert.list_details_to_pb(listing, response.details)
        for p in listing.passkeys:
            passkey = response.result.add(id=p.id, state=convert.passkey_state_to_pb(p.state), name=p.name)
            passkey.creation_date.FromDatetime(p.created_at)
        return response
