"""zitadel.user.v2.UserService: protobuf in, use-case call, protobuf out; no rule lives here."""

from __future__ import annotations

import grpc
from zitadel.user.v2 import user_service_pb2 as pb
from zitadel.user.v2 import user_service_pb2_grpc as pb_grpc

from passkeys.api import convert
from passkeys.api.human import human_view_to_pb, new_human_from_pb
from passkeys.api.interceptors import logged_caller
from passkeys.auth.authenticate import Authenticator
from passkeys.auth.caller import Caller, Kind
from passkeys.commands.auth_methods import list_authentication_method_types
from passkeys.commands.links import create_registration_link
from passkeys.commands.passkeys import PasskeyCommands
from passkeys.commands.user_view import get_user
from passkeys.commands.users import add_human_user
from passkeys.config import Settings
from passkeys.sealing import Sealer
from passkeys.sealing_key import load_key
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
        self.sealer = Sealer(load_key(key=settings.outbox_key, key_path=settings.outbox_key_path))

    def _caller(self, context: grpc.ServicerContext) -> Caller:
        return _logged(self.authn.caller(context.invocation_metadata()))

    def AddHumanUser(self, request: pb.AddHumanUserRequest, context: grpc.ServicerContext) -> pb.AddHumanUserResponse:
        user_id, details = add_human_user(self.db, self._caller(context), new_human_from_pb(request))
        response = pb.AddHumanUserResponse(user_id=user_id)
        convert.details_to_pb(details, response.details)
        return response

    def GetUserByID(self, request: pb.GetUserByIDRequest, context: grpc.ServicerContext) -> pb.GetUserByIDResponse:
        view = get_user(self.db, caller=self._caller(context), user_id=request.user_id)
        response = pb.GetUserByIDResponse()
        convert.details_to_pb(view.details, response.details)
        human_view_to_pb(view, response.user)
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
            sealer=self.sealer,
        )
        response = pb.CreatePasskeyRegistrationLinkResponse()
        convert.details_to_pb(created.details, response.details)
        if created.code is not None:
            response.code.id = created.code.id
            response.code.code = created.code.code
        return response

    def ListPasskeys(self, request: pb.ListPasskeysRequest, context: grpc.ServicerContext) -> pb.ListPasskeysResponse:
        listing = self.passkeys.list(caller=self._caller(context), user_id=request.user_id)
        response = pb.ListPasskeysResponse()
        convert.list_details_to_pb(listing, response.details)
        for p in listing.passkeys:
            response.result.add(id=p.id, state=convert.passkey_state_to_pb(p.state), name=p.name)
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

    def ListAuthenticationMethodTypes(
        self, request: pb.ListAuthenticationMethodTypesRequest, context: grpc.ServicerContext
    ) -> pb.ListAuthenticationMethodTypesResponse:
        caller = self._caller(context)
        domain = request.domain_query.domain if request.HasField("domain_query") else None
        listing = list_authentication_method_types(self.db, caller=caller, user_id=request.user_id, domain=domain)
        response = pb.ListAuthenticationMethodTypesResponse(auth_method_types=listing.types)
        response.details.total_result = len(listing.types)
        response.details.processed_sequence = listing.sequence
        response.details.timestamp.FromDatetime(listing.timestamp)
        return response
