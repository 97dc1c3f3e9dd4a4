"""passkeys.v1.PasskeyDetailsService: what we know about a passkey beyond upstream's Passkey
message (which stays exactly upstream's), and renaming one; protobuf in, use case, protobuf out."""

from __future__ import annotations

import grpc
from passkeysapi.v1 import passkey_details_pb2 as pb
from passkeysapi.v1 import passkey_details_pb2_grpc as pb_grpc

from passkeys.api import convert
from passkeys.api.details_convert import passkey_details_to_pb
from passkeys.api.servicer import UserService
from passkeys.commands.passkey_details import list_passkey_details, rename_passkey


class PasskeyDetailsService(pb_grpc.PasskeyDetailsServiceServicer):
    """Authenticates and authorizes exactly as UserService (it shares its caller and database)."""

    def __init__(self, users: UserService) -> None:
        self.users = users
        # Provider names of security keys the community list lacks come from the FIDO metadata.
        self.metadata = users.passkeys.policy.attestation_policy.metadata

    def ListPasskeyDetails(
        self, request: pb.ListPasskeyDetailsRequest, context: grpc.ServicerContext
    ) -> pb.ListPasskeyDetailsResponse:
        listing = list_passkey_details(
            self.users.db, caller=self.users._caller(context), user_id=request.user_id, metadata=self.metadata
        )
        response = pb.ListPasskeyDetailsResponse()
        convert.list_details_to_pb(listing, response.details)
        for view in listing.passkeys:
            passkey_details_to_pb(view, response.result.add())
        return response

    def RenamePasskey(
        self, request: pb.RenamePasskeyRequest, context: grpc.ServicerContext
    ) -> pb.RenamePasskeyResponse:
        details = rename_passkey(
            self.users.db,
            caller=self.users._caller(context),
            user_id=request.user_id,
            passkey_id=request.passkey_id,
            name=request.name,
        )
        response = pb.RenamePasskeyResponse()
        convert.details_to_pb(details, response.details)
        return response
