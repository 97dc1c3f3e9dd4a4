"""zitadel.user.v2.UserService: protobuf in, use-case call, protobuf out; no rule lives here."""

from __future__ import annotations

import grpc
from zitadel.user.v2 import user_service_pb2 as pb
from zitadel.user.v2 import user_service_pb2_grpc as pb_grpc

from passkeys.api import convert
from passkeys.api.interceptors import logged_caller
from passkeys.auth.authenticate import Authenticator
from passkeys.auth.caller import Caller, Kind
from passkeys.commands.links import create_registration_link
from passkeys.commands.passkeys import PasskeyCommands
from passkeys.commands.user_query import get_user_by_id
from passkeys.commands.users import NewHuman, add_human_user
from passkeys.config import Settings
from passkeys.store.db import Database


def _logged(caller: Caller) -> Caller:
    logged_caller.set(f"{caller.kind.value}:{caller.code_id if caller.kind is Kind.CODE else caller.user_id}")
    return caller


class UserService(pb_grpc.UserServiceServicer):
    """Each method first authenticates the call's bearer metadata (before any argument)."""

    def __init__(self, db: Database, passkeys: PasskeyCommands, authn: Authenticator, settings: Settings) -> None:
        self.db = db
        self.passkeys = passkeys
        self.authn = authn
        self.settings = settings

    def _caller(self, context: grpc.ServicerContext) -> Caller:
        return _logged(self.authn.caller(context.invocation_metadata()))

    def AddHumanUser(self, request: pb.AddHumanUserRequest, context: grpc.ServicerContext) -> pb.AddHumanUserResponse:
        caller = self._caller(context)
        org = request.organization
        which = org.WhichOneof("org") if request.HasField("organization") else None
        profile = request.profile
        user_id, details = add_human_user(
            self.db,
            caller,
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
        # A registration code in the body stands in for the bearer token (ZITADEL's way).
        if request.HasField("code"):
            caller = _logged(self.authn.code(request.code.id, request.code.code))
        else:
            caller = self._caller(context)
        registration = self.passkeys.register(
            caller=caller,
            user_id=request.user_id,
            attachment=convert.authenticator_to_domain(request.authenticator),
            domain=request.domain,
        )
        response = pb.RegisterPasskeyResponse(passkey_id=registration.passkey_id)
        convert.details_to_pb(registration.details, response.details)
        response.public_key_credential_creation_options.update(registration.options)
        return response

    def VerifyPasskeyRegistration(
        self, request: pb.VerifyPasskeyRegistrationRequest, context: grpc.ServicerContext
    ) -> pb.VerifyPasskeyRegistrationResponse:
        caller = self._caller(context)
        credential, json_length = convert.struct_to_credential(request.public_key_credential)
        details = self.passkeys.verify(
            caller=caller,
            user_id=request.user_id,
            passkey_id=request.passkey_id,
            credential=credential,
            json_length=json_length,
            name=request.passkey_name,
        )
        response = pb.VerifyPasskeyRegistrationResponse()
        convert.details_to_pb(details, response.details)
        return response

    def CreatePasskeyRegistrationLink(
        self, request: pb.CreatePasskeyRegistrationLinkRequest, context: grpc.ServicerContext
    ) -> pb.CreatePasskeyRegistrationLinkResponse:
        caller = self._caller(context)
        created = create_registration_link(
            self.db,
            caller=caller,
            user_id=request.user_id,
            url_template=convert.link_medium_to_domain(request),
            default_template=self.settings.link_url_template,
        )
        response = pb.CreatePasskeyRegistrationLinkResponse()
        convert.details_to_pb(created.details, response.details)
        if created.code is not None:
            response.code.id = created.code.id
            response.code.code = created.code.code
        return response

    def GetUserByID(self, request: pb.GetUserByIDRequest, context: grpc.ServicerContext) -> pb.GetUserByIDResponse:
        found = get_user_by_id(self.db, self._caller(context), request.user_id)
        response = pb.GetUserByIDResponse()
        convert.details_to_pb(found.details, response.details)
        convert.user_to_pb(found, response.user)
        return response

    def ListPasskeys(self, request: pb.ListPasskeysRequest, context: grpc.ServicerContext) -> pb.ListPasskeysResponse:
        listing = self.passkeys.list(caller=self._caller(context), user_id=request.user_id)
        response = pb.ListPasskeysResponse()
        response.details.total_result = len(listing.passkeys)
        response.details.processed_sequence = listing.sequence
        response.details.timestamp.FromDatetime(listing.timestamp)
        for p in listing.passkeys:
            passkey = response.result.add(id=p.id, state=convert.passkey_state_to_pb(p.state), name=p.name)
            passkey.creation_date.FromDatetime(p.created_at)
        return response

    def RemovePasskey(
        self, request: pb.RemovePasskeyRequest, context: grpc.ServicerContext
    ) -> pb.RemovePasskeyResponse:
        details = self.passkeys.remove(
            caller=self._caller(context), user_id=request.user_id, passkey_id=request.passkey_id
        )
        response = pb.RemovePasskeyResponse()
        convert.details_to_pb(details, response.details)
        return response
