"""zitadel.user.v2beta.UserService (deprecated upstream, still what @zitadel/node's createUserClient
calls): its passkey RPCs and AddHumanUser, served by the v2 servicer and so by the same use cases.

Upstream's v2beta messages of these RPCs are wire-identical to v2's (same names, numbers and types,
checked by tests/unit/test_v2beta_wire.py): a request is re-read as its v2 message, and the v2
answer re-read as the v2beta one. No rule lives here."""

from __future__ import annotations

from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message
from zitadel.user.v2 import user_service_pb2 as v2
from zitadel.user.v2beta import user_service_pb2 as pb
from zitadel.user.v2beta import user_service_pb2_grpc as pb_grpc

from passkeys.api.servicer import UserService

M = TypeVar("M", bound=Message)


def _as(message: Message, cls: type[M]) -> M:
    return cls.FromString(message.SerializeToString())


class UserServiceV2Beta(pb_grpc.UserServiceServicer):
    def __init__(self, v2_service: UserService) -> None:
        self.v2 = v2_service

    def _call(self, method: str, request: Message, context: grpc.ServicerContext, out: type[M]) -> M:
        v2_request: Any = _as(request, getattr(v2, f"{method}Request"))
        return _as(getattr(self.v2, method)(v2_request, context), out)

    def AddHumanUser(self, request: pb.AddHumanUserRequest, context: grpc.ServicerContext) -> pb.AddHumanUserResponse:
        return self._call("AddHumanUser", request, context, pb.AddHumanUserResponse)

    def RegisterPasskey(
        self, request: pb.RegisterPasskeyRequest, context: grpc.ServicerContext
    ) -> pb.RegisterPasskeyResponse:
        return self._call("RegisterPasskey", request, context, pb.RegisterPasskeyResponse)

    def VerifyPasskeyRegistration(
        self, request: pb.VerifyPasskeyRegistrationRequest, context: grpc.ServicerContext
    ) -> pb.VerifyPasskeyRegistrationResponse:
        return self._call("VerifyPasskeyRegistration", request, context, pb.VerifyPasskeyRegistrationResponse)

    def CreatePasskeyRegistrationLink(
        self, request: pb.CreatePasskeyRegistrationLinkRequest, context: grpc.ServicerContext
    ) -> pb.CreatePasskeyRegistrationLinkResponse:
        return self._call("CreatePasskeyRegistrationLink", request, context, pb.CreatePasskeyRegistrationLinkResponse)
