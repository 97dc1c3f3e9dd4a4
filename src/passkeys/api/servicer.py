"""zitadel.user.v2.UserService: protobuf in, use-case call, protobuf out; no rule lives here."""

from __future__ import annotations

import grpc
from zitadel.user.v2 import user_service_pb2 as pb
from zitadel.user.v2 import user_service_pb2_grpc as pb_grpc

from passkeys.api import convert
from passkeys.commands.passkeys import PasskeyCommands
from passkeys.commands.users import NewHuman, add_human_user
from passkeys.errors import InvalidArgument
from passkeys.store.db import Database

# PasskeyAuthenticator numbers to WebAuthn's authenticatorAttachment.
_ATTACHMENT = {0: None, 1: "platform", 2: "cross-platform"}


class UserService(pb_grpc.UserServiceServicer):
    def __init__(self, db: Database, passkeys: PasskeyCommands) -> None:
        self.db = db
        self.passkeys = passkeys

    def AddHumanUser(self, request: pb.AddHumanUserRequest, context: grpc.ServicerContext) -> pb.AddHumanUserResponse:
        org = request.organization
        which = org.WhichOneof("org") if request.HasField("organization") else None
        profile = request.profile
        user_id, details = add_human_user(
            self.db,
            NewHuman(
                given_name=profile.given_name,
                family_name=profile.family_name,
                display_name=profile.display_name if profile.HasField("display_name") else None,
                email=request.email.email,
                user_id=request.user_id if request.HasField("user_id") else None,
                username=request.username if request.HasField("username") else None,
                org_id=org.org_id if which == "org_id" else None,
                org_domain=org.org_domain if which == "org_domain" else None,
            ),
        )
        response = pb.AddHumanUserResponse(user_id=user_id)
        convert.details_to_pb(details, response.details)
        return response

    def RegisterPasskey(
        self, request: pb.RegisterPasskeyRequest, context: grpc.ServicerContext
    ) -> pb.RegisterPasskeyResponse:
        if request.HasField("code"):
            raise InvalidArgument(
                "CODE_NOT_SUPPORTED", "registration codes are not supported by this server", field="code"
            )
        registration = self.passkeys.register(
            user_id=request.user_id, attachment=_ATTACHMENT.get(request.authenticator, "unknown"), domain=request.domain
        )
        response = pb.RegisterPasskeyResponse(passkey_id=registration.passkey_id)
        convert.details_to_pb(registration.details, response.details)
        response.public_key_credential_creation_options.update(registration.options)
        return response

    def VerifyPasskeyRegistration(
        self, request: pb.VerifyPasskeyRegistrationRequest, context: grpc.ServicerContext
    ) -> pb.VerifyPasskeyRegistrationResponse:
        details = self.passkeys.verify(
            user_id=request.user_id,
            passkey_id=request.passkey_id,
            credential_json=convert.struct_to_json(request.public_key_credential),
            name=request.passkey_name,
        )
        response = pb.VerifyPasskeyRegistrationResponse()
        convert.details_to_pb(details, response.details)
        return response

    def CreatePasskeyRegistrationLink(
        self, request: pb.CreatePasskeyRegistrationLinkRequest, context: grpc.ServicerContext
    ) -> pb.CreatePasskeyRegistrationLinkResponse:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "registration links are not implemented yet")

    def ListPasskeys(self, request: pb.ListPasskeysRequest, context: grpc.ServicerContext) -> pb.ListPasskeysResponse:
        listing = self.passkeys.list(user_id=request.user_id)
        response = pb.ListPasskeysResponse()
        response.details.total_result = len(listing.passkeys)
        response.details.processed_sequence = listing.sequence
        response.details.timestamp.FromDatetime(listing.timestamp)
        for p in listing.passkeys:
            passkey = response.result.add(id=p.id, state=p.state, name=p.name)
            passkey.creation_date.FromDatetime(p.created_at)
        return response

    def RemovePasskey(
        self, request: pb.RemovePasskeyRequest, context: grpc.ServicerContext
    ) -> pb.RemovePasskeyResponse:
        details = self.passkeys.remove(user_id=request.user_id, passkey_id=request.passkey_id)
        response = pb.RemovePasskeyResponse()
        convert.details_to_pb(details, response.details)
        return response
