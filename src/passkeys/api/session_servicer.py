"""zitadel.session.v2.SessionService: protobuf in, use-case call, protobuf out; no rule lives here."""

from __future__ import annotations

import grpc
from zitadel.session.v2 import session_service_pb2 as pb
from zitadel.session.v2 import session_service_pb2_grpc as pb_grpc

from passkeys.api import convert, metrics, session_convert
from passkeys.api.servicer import _logged
from passkeys.auth.authenticate import Authenticator
from passkeys.auth.caller import Caller
from passkeys.commands.sessions import SessionCommands


class SessionService(pb_grpc.SessionServiceServicer):
    """Each method first authenticates the call's bearer metadata (before any argument)."""

    def __init__(self, sessions: SessionCommands, authn: Authenticator) -> None:
        self.sessions = sessions
        self.authn = authn

    def _caller(self, context: grpc.ServicerContext) -> Caller:
        return _logged(self.authn.caller(context.invocation_metadata()))

    def CreateSession(
        self, request: pb.CreateSessionRequest, context: grpc.ServicerContext
    ) -> pb.CreateSessionResponse:
        caller = self._caller(context)
        data = session_convert.session_input_to_domain(
            request.checks if request.HasField("checks") else None,
            request.challenges if request.HasField("challenges") else None,
            request,
        )
        created = self.sessions.create(caller=caller, data=data)
        response = pb.CreateSessionResponse(session_id=created.session_id, session_token=created.session_token)
        convert.details_to_pb(created.details, response.details)
        session_convert.challenges_to_pb(created.request_options, response.challenges)
        return response

    def SetSession(self, request: pb.SetSessionRequest, context: grpc.ServicerContext) -> pb.SetSessionResponse:
        caller = self._caller(context)
        data = session_convert.session_input_to_domain(
            request.checks if request.HasField("checks") else None,
            request.challenges if request.HasField("challenges") else None,
            request,
        )
        changed = self.sessions.set(caller=caller, session_id=request.session_id, data=data)
        if changed.sign_count_regressed:
            metrics.SIGN_COUNT_FLAGGED.inc()
        response = pb.SetSessionResponse(session_token=changed.session_token)
        convert.details_to_pb(changed.details, response.details)
        session_convert.challenges_to_pb(changed.request_options, response.challenges)
        return response

    def GetSession(self, request: pb.GetSessionRequest, context: grpc.ServicerContext) -> pb.GetSessionResponse:
        caller = self._caller(context)
        token = request.session_token if request.HasField("session_token") else None
        view = self.sessions.get(caller=caller, session_id=request.session_id, session_token=token)
        response = pb.GetSessionResponse()
        session_convert.session_to_pb(view, response.session)
        return response

    def ListSessions(self, request: pb.ListSessionsRequest, context: grpc.ServicerContext) -> pb.ListSessionsResponse:
        caller = self._caller(context)
        listing = self.sessions.list(caller=caller, query=session_convert.list_query_to_domain(request))
        response = pb.ListSessionsResponse()
        response.details.total_result = listing.total
        response.details.timestamp.FromDatetime(listing.timestamp)
        for view in listing.sessions:
            session_convert.session_to_pb(view, response.sessions.add())
        return response

    def DeleteSession(
        self, request: pb.DeleteSessionRequest, context: grpc.ServicerContext
    ) -> pb.DeleteSessionResponse:
        caller = self._caller(context)
        token = request.session_token if request.HasField("session_token") else None
        details = self.sessions.delete(caller=caller, session_id=request.session_id, session_token=token)
        response = pb.DeleteSessionResponse()
        convert.details_to_pb(details, response.details)
        return response
