import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from zitadel.object.v2 import object_pb2 as _object_pb2
from zitadel.session.v2 import challenge_pb2 as _challenge_pb2
from zitadel.session.v2 import session_pb2 as _session_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListSessionsRequest(_message.Message):
    __slots__ = ("query", "queries", "sorting_column")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    SORTING_COLUMN_FIELD_NUMBER: _ClassVar[int]
    query: _object_pb2.ListQuery
    queries: _containers.RepeatedCompositeFieldContainer[_session_pb2.SearchQuery]
    sorting_column: _session_pb2.SessionFieldName
    def __init__(self, query: _Optional[_Union[_object_pb2.ListQuery, _Mapping]] = ..., queries: _Optional[_Iterable[_Union[_session_pb2.SearchQuery, _Mapping]]] = ..., sorting_column: _Optional[_Union[_session_pb2.SessionFieldName, str]] = ...) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ("details", "sessions")
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ListDetails
    sessions: _containers.RepeatedCompositeFieldContainer[_session_pb2.Session]
    def __init__(self, details: _Optional[_Union[_object_pb2.ListDetails, _Mapping]] = ..., sessions: _Optional[_Iterable[_Union[_session_pb2.Session, _Mapping]]] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ("session_id", "session_token")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    session_token: str
    def __init__(self, session_id: _Optional[str] = ..., session_token: _Optional[str] = ...) -> None: ...

class GetSessionResponse(_message.Message):
    __slots__ = ("session",)
    SESSION_FIELD_NUMBER: _ClassVar[int]
    session: _session_pb2.Session
    def __init__(self, session: _Optional[_Union[_session_pb2.Session, _Mapping]] = ...) -> None: ...

class CreateSessionRequest(_message.Message):
    __slots__ = ("checks", "metadata", "challenges", "user_agent", "lifetime")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CHALLENGES_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    LIFETIME_FIELD_NUMBER: _ClassVar[int]
    checks: Checks
    metadata: _containers.ScalarMap[str, bytes]
    challenges: _challenge_pb2.RequestChallenges
    user_agent: _session_pb2.UserAgent
    lifetime: _duration_pb2.Duration
    def __init__(self, checks: _Optional[_Union[Checks, _Mapping]] = ..., metadata: _Optional[_Mapping[str, bytes]] = ..., challenges: _Optional[_Union[_challenge_pb2.RequestChallenges, _Mapping]] = ..., user_agent: _Optional[_Union[_session_pb2.UserAgent, _Mapping]] = ..., lifetime: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class CreateSessionResponse(_message.Message):
    __slots__ = ("details", "session_id", "session_token", "challenges")
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CHALLENGES_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.Details
    session_id: str
    session_token: str
    challenges: _challenge_pb2.Challenges
    def __init__(self, details: _Optional[_Union[_object_pb2.Details, _Mapping]] = ..., session_id: _Optional[str] = ..., session_token: _Optional[str] = ..., challenges: _Optional[_Union[_challenge_pb2.Challenges, _Mapping]] = ...) -> None: ...

class SetSessionRequest(_message.Message):
    __slots__ = ("session_id", "session_token", "checks", "metadata", "challenges", "lifetime")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CHALLENGES_FIELD_NUMBER: _ClassVar[int]
    LIFETIME_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    session_token: str
    checks: Checks
    metadata: _containers.ScalarMap[str, bytes]
    challenges: _challenge_pb2.RequestChallenges
    lifetime: _duration_pb2.Duration
    def __init__(self, session_id: _Optional[str] = ..., session_token: _Optional[str] = ..., checks: _Optional[_Union[Checks, _Mapping]] = ..., metadata: _Optional[_Mapping[str, bytes]] = ..., challenges: _Optional[_Union[_challenge_pb2.RequestChallenges, _Mapping]] = ..., lifetime: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class SetSessionResponse(_message.Message):
    __slots__ = ("details", "session_token", "challenges")
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CHALLENGES_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.Details
    session_token: str
    challenges: _challenge_pb2.Challenges
    def __init__(self, details: _Optional[_Union[_object_pb2.Details, _Mapping]] = ..., session_token: _Optional[str] = ..., challenges: _Optional[_Union[_challenge_pb2.Challenges, _Mapping]] = ...) -> None: ...

class DeleteSessionRequest(_message.Message):
    __slots__ = ("session_id", "session_token")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_TOKEN_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    session_token: str
    def __init__(self, session_id: _Optional[str] = ..., session_token: _Optional[str] = ...) -> None: ...

class DeleteSessionResponse(_message.Message):
    __slots__ = ("details",)
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.Details
    def __init__(self, details: _Optional[_Union[_object_pb2.Details, _Mapping]] = ...) -> None: ...

class Checks(_message.Message):
    __slots__ = ("user", "password", "web_auth_n", "idp_intent", "totp", "otp_sms", "otp_email")
    USER_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    WEB_AUTH_N_FIELD_NUMBER: _ClassVar[int]
    IDP_INTENT_FIELD_NUMBER: _ClassVar[int]
    TOTP_FIELD_NUMBER: _ClassVar[int]
    OTP_SMS_FIELD_NUMBER: _ClassVar[int]
    OTP_EMAIL_FIELD_NUMBER: _ClassVar[int]
    user: CheckUser
    password: CheckPassword
    web_auth_n: CheckWebAuthN
    idp_intent: CheckIDPIntent
    totp: CheckTOTP
    otp_sms: CheckOTP
    otp_email: CheckOTP
    def __init__(self, user: _Optional[_Union[CheckUser, _Mapping]] = ..., password: _Optional[_Union[CheckPassword, _Mapping]] = ..., web_auth_n: _Optional[_Union[CheckWebAuthN, _Mapping]] = ..., idp_intent: _Optional[_Union[CheckIDPIntent, _Mapping]] = ..., totp: _Optional[_Union[CheckTOTP, _Mapping]] = ..., otp_sms: _Optional[_Union[CheckOTP, _Mapping]] = ..., otp_email: _Optional[_Union[CheckOTP, _Mapping]] = ...) -> None: ...

class CheckUser(_message.Message):
    __slots__ = ("user_id", "login_name")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    LOGIN_NAME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    login_name: str
    def __init__(self, user_id: _Optional[str] = ..., login_name: _Optional[str] = ...) -> None: ...

class CheckPassword(_message.Message):
    __slots__ = ("password",)
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    password: str
    def __init__(self, password: _Optional[str] = ...) -> None: ...

class CheckWebAuthN(_message.Message):
    __slots__ = ("credential_assertion_data",)
    CREDENTIAL_ASSERTION_DATA_FIELD_NUMBER: _ClassVar[int]
    credential_assertion_data: _struct_pb2.Struct
    def __init__(self, credential_assertion_data: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class CheckIDPIntent(_message.Message):
    __slots__ = ("idp_intent_id", "idp_intent_token")
    IDP_INTENT_ID_FIELD_NUMBER: _ClassVar[int]
    IDP_INTENT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    idp_intent_id: str
    idp_intent_token: str
    def __init__(self, idp_intent_id: _Optional[str] = ..., idp_intent_token: _Optional[str] = ...) -> None: ...

class CheckTOTP(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class CheckOTP(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...
