from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class AuthFactorState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AUTH_FACTOR_STATE_UNSPECIFIED: _ClassVar[AuthFactorState]
    AUTH_FACTOR_STATE_NOT_READY: _ClassVar[AuthFactorState]
    AUTH_FACTOR_STATE_READY: _ClassVar[AuthFactorState]
    AUTH_FACTOR_STATE_REMOVED: _ClassVar[AuthFactorState]
AUTH_FACTOR_STATE_UNSPECIFIED: AuthFactorState
AUTH_FACTOR_STATE_NOT_READY: AuthFactorState
AUTH_FACTOR_STATE_READY: AuthFactorState
AUTH_FACTOR_STATE_REMOVED: AuthFactorState
