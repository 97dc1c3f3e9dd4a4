import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Organization(_message.Message):
    __slots__ = ("org_id", "org_domain")
    ORG_ID_FIELD_NUMBER: _ClassVar[int]
    ORG_DOMAIN_FIELD_NUMBER: _ClassVar[int]
    org_id: str
    org_domain: str
    def __init__(self, org_id: _Optional[str] = ..., org_domain: _Optional[str] = ...) -> None: ...

class Details(_message.Message):
    __slots__ = ("sequence", "change_date", "resource_owner", "creation_date")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CHANGE_DATE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_OWNER_FIELD_NUMBER: _ClassVar[int]
    CREATION_DATE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    change_date: _timestamp_pb2.Timestamp
    resource_owner: str
    creation_date: _timestamp_pb2.Timestamp
    def __init__(self, sequence: _Optional[int] = ..., change_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., resource_owner: _Optional[str] = ..., creation_date: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
