from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class Password(_message.Message):
    __slots__ = ("password", "change_required")
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    CHANGE_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    password: str
    change_required: bool
    def __init__(self, password: _Optional[str] = ..., change_required: _Optional[bool] = ...) -> None: ...

class HashedPassword(_message.Message):
    __slots__ = ("hash", "change_required")
    HASH_FIELD_NUMBER: _ClassVar[int]
    CHANGE_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    hash: str
    change_required: bool
    def __init__(self, hash: _Optional[str] = ..., change_required: _Optional[bool] = ...) -> None: ...
