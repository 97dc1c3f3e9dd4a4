import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from zitadel import object_pb2 as _object_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SessionFieldName(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SESSION_FIELD_NAME_UNSPECIFIED: _ClassVar[SessionFieldName]
    SESSION_FIELD_NAME_CREATION_DATE: _ClassVar[SessionFieldName]
SESSION_FIELD_NAME_UNSPECIFIED: SessionFieldName
SESSION_FIELD_NAME_CREATION_DATE: SessionFieldName

class Session(_message.Message):
    __slots__ = ("id", "creation_date", "change_date", "sequence", "factors", "metadata", "user_agent", "expiration_date")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATION_DATE_FIELD_NUMBER: _ClassVar[int]
    CHANGE_DATE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    FACTORS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_DATE_FIELD_NUMBER: _ClassVar[int]
    id: str
    creation_date: _timestamp_pb2.Timestamp
    change_date: _timestamp_pb2.Timestamp
    sequence: int
    factors: Factors
    metadata: _containers.ScalarMap[str, bytes]
    user_agent: UserAgent
    expiration_date: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., creation_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., change_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sequence: _Optional[int] = ..., factors: _Optional[_Union[Factors, _Mapping]] = ..., metadata: _Optional[_Mapping[str, bytes]] = ..., user_agent: _Optional[_Union[UserAgent, _Mapping]] = ..., expiration_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Factors(_message.Message):
    __slots__ = ("user", "password", "web_auth_n", "intent", "totp", "otp_sms", "otp_email")
    USER_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    WEB_AUTH_N_FIELD_NUMBER: _ClassVar[int]
    INTENT_FIELD_NUMBER: _ClassVar[int]
    TOTP_FIELD_NUMBER: _ClassVar[int]
    OTP_SMS_FIELD_NUMBER: _ClassVar[int]
    OTP_EMAIL_FIELD_NUMBER: _ClassVar[int]
    user: UserFactor
    password: PasswordFactor
    web_auth_n: WebAuthNFactor
    intent: IntentFactor
    totp: TOTPFactor
    otp_sms: OTPFactor
    otp_email: OTPFactor
    def __init__(self, user: _Optional[_Union[UserFactor, _Mapping]] = ..., password: _Optional[_Union[PasswordFactor, _Mapping]] = ..., web_auth_n: _Optional[_Union[WebAuthNFactor, _Mapping]] = ..., intent: _Optional[_Union[IntentFactor, _Mapping]] = ..., totp: _Optional[_Union[TOTPFactor, _Mapping]] = ..., otp_sms: _Optional[_Union[OTPFactor, _Mapping]] = ..., otp_email: _Optional[_Union[OTPFactor, _Mapping]] = ...) -> None: ...

class UserFactor(_message.Message):
    __slots__ = ("verified_at", "id", "login_name", "display_name", "organization_id")
    VERIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    LOGIN_NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    verified_at: _timestamp_pb2.Timestamp
    id: str
    login_name: str
    display_name: str
    organization_id: str
    def __init__(self, verified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., id: _Optional[str] = ..., login_name: _Optional[str] = ..., display_name: _Optional[str] = ..., organization_id: _Optional[str] = ...) -> None: ...

class PasswordFactor(_message.Message):
    __slots__ = ("verified_at",)
    VERIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    verified_at: _timestamp_pb2.Timestamp
    def __init__(self, verified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class IntentFactor(_message.Message):
    __slots__ = ("verified_at",)
    VERIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    verified_at: _timestamp_pb2.Timestamp
    def __init__(self, verified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WebAuthNFactor(_message.Message):
    __slots__ = ("verified_at", "user_verified")
    VERIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    USER_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    verified_at: _timestamp_pb2.Timestamp
    user_verified: bool
    def __init__(self, verified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., user_verified: _Optional[bool] = ...) -> None: ...

class TOTPFactor(_message.Message):
    __slots__ = ("verified_at",)
    VERIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    verified_at: _timestamp_pb2.Timestamp
    def __init__(self, verified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class OTPFactor(_message.Message):
    __slots__ = ("verified_at",)
    VERIFIED_AT_FIELD_NUMBER: _ClassVar[int]
    verified_at: _timestamp_pb2.Timestamp
    def __init__(self, verified_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SearchQuery(_message.Message):
    __slots__ = ("ids_query", "user_id_query", "creation_date_query", "creator_query", "user_agent_query")
    IDS_QUERY_FIELD_NUMBER: _ClassVar[int]
    USER_ID_QUERY_FIELD_NUMBER: _ClassVar[int]
    CREATION_DATE_QUERY_FIELD_NUMBER: _ClassVar[int]
    CREATOR_QUERY_FIELD_NUMBER: _ClassVar[int]
    USER_AGENT_QUERY_FIELD_NUMBER: _ClassVar[int]
    ids_query: IDsQuery
    user_id_query: UserIDQuery
    creation_date_query: CreationDateQuery
    creator_query: CreatorQuery
    user_agent_query: UserAgentQuery
    def __init__(self, ids_query: _Optional[_Union[IDsQuery, _Mapping]] = ..., user_id_query: _Optional[_Union[UserIDQuery, _Mapping]] = ..., creation_date_query: _Optional[_Union[CreationDateQuery, _Mapping]] = ..., creator_query: _Optional[_Union[CreatorQuery, _Mapping]] = ..., user_agent_query: _Optional[_Union[UserAgentQuery, _Mapping]] = ...) -> None: ...

class IDsQuery(_message.Message):
    __slots__ = ("ids",)
    IDS_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ids: _Optional[_Iterable[str]] = ...) -> None: ...

class UserIDQuery(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class CreationDateQuery(_message.Message):
    __slots__ = ("creation_date", "method")
    CREATION_DATE_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    creation_date: _timestamp_pb2.Timestamp
    method: _object_pb2.TimestampQueryMethod
    def __init__(self, creation_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., method: _Optional[_Union[_object_pb2.TimestampQueryMethod, str]] = ...) -> None: ...

class CreatorQuery(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class UserAgentQuery(_message.Message):
    __slots__ = ("fingerprint_id",)
    FINGERPRINT_ID_FIELD_NUMBER: _ClassVar[int]
    fingerprint_id: str
    def __init__(self, fingerprint_id: _Optional[str] = ...) -> None: ...

class UserAgent(_message.Message):
    __slots__ = ("fingerprint_id", "ip", "description", "header")
    class HeaderValues(_message.Message):
        __slots__ = ("values",)
        VALUES_FIELD_NUMBER: _ClassVar[int]
        values: _containers.RepeatedScalarFieldContainer[str]
        def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...
    class HeaderEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: UserAgent.HeaderValues
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[UserAgent.HeaderValues, _Mapping]] = ...) -> None: ...
    FINGERPRINT_ID_FIELD_NUMBER: _ClassVar[int]
    IP_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    fingerprint_id: str
    ip: str
    description: str
    header: _containers.MessageMap[str, UserAgent.HeaderValues]
    def __init__(self, fingerprint_id: _Optional[str] = ..., ip: _Optional[str] = ..., description: _Optional[str] = ..., header: _Optional[_Mapping[str, UserAgent.HeaderValues]] = ...) -> None: ...
