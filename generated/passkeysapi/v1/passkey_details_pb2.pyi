import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from zitadel.object.v2 import object_pb2 as _object_pb2
from zitadel.user.v2 import auth_pb2 as _auth_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListPasskeyDetailsRequest(_message.Message):
    __slots__ = ("user_id",)
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    def __init__(self, user_id: _Optional[str] = ...) -> None: ...

class ListPasskeyDetailsResponse(_message.Message):
    __slots__ = ("details", "result")
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.ListDetails
    result: _containers.RepeatedCompositeFieldContainer[PasskeyDetails]
    def __init__(self, details: _Optional[_Union[_object_pb2.ListDetails, _Mapping]] = ..., result: _Optional[_Iterable[_Union[PasskeyDetails, _Mapping]]] = ...) -> None: ...

class RenamePasskeyRequest(_message.Message):
    __slots__ = ("user_id", "passkey_id", "name")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PASSKEY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    passkey_id: str
    name: str
    def __init__(self, user_id: _Optional[str] = ..., passkey_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class RenamePasskeyResponse(_message.Message):
    __slots__ = ("details",)
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.Details
    def __init__(self, details: _Optional[_Union[_object_pb2.Details, _Mapping]] = ...) -> None: ...

class PasskeyDetails(_message.Message):
    __slots__ = ("id", "name", "state", "creation_date", "last_used", "rp_id", "transports", "backup_eligible", "backup_state", "aaguid", "provider_name", "provider_icon_light", "provider_icon_dark", "attestation_format", "attestation_verified")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CREATION_DATE_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_FIELD_NUMBER: _ClassVar[int]
    RP_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSPORTS_FIELD_NUMBER: _ClassVar[int]
    BACKUP_ELIGIBLE_FIELD_NUMBER: _ClassVar[int]
    BACKUP_STATE_FIELD_NUMBER: _ClassVar[int]
    AAGUID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_NAME_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ICON_LIGHT_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_ICON_DARK_FIELD_NUMBER: _ClassVar[int]
    ATTESTATION_FORMAT_FIELD_NUMBER: _ClassVar[int]
    ATTESTATION_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    state: _auth_pb2.AuthFactorState
    creation_date: _timestamp_pb2.Timestamp
    last_used: _timestamp_pb2.Timestamp
    rp_id: str
    transports: _containers.RepeatedScalarFieldContainer[str]
    backup_eligible: bool
    backup_state: bool
    aaguid: str
    provider_name: str
    provider_icon_light: str
    provider_icon_dark: str
    attestation_format: str
    attestation_verified: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., state: _Optional[_Union[_auth_pb2.AuthFactorState, str]] = ..., creation_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_used: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rp_id: _Optional[str] = ..., transports: _Optional[_Iterable[str]] = ..., backup_eligible: _Optional[bool] = ..., backup_state: _Optional[bool] = ..., aaguid: _Optional[str] = ..., provider_name: _Optional[str] = ..., provider_icon_light: _Optional[str] = ..., provider_icon_dark: _Optional[str] = ..., attestation_format: _Optional[str] = ..., attestation_verified: _Optional[bool] = ...) -> None: ...
