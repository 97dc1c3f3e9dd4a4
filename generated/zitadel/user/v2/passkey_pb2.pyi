from zitadel.user.v2 import auth_pb2 as _auth_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PasskeyAuthenticator(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PASSKEY_AUTHENTICATOR_UNSPECIFIED: _ClassVar[PasskeyAuthenticator]
    PASSKEY_AUTHENTICATOR_PLATFORM: _ClassVar[PasskeyAuthenticator]
    PASSKEY_AUTHENTICATOR_CROSS_PLATFORM: _ClassVar[PasskeyAuthenticator]
PASSKEY_AUTHENTICATOR_UNSPECIFIED: PasskeyAuthenticator
PASSKEY_AUTHENTICATOR_PLATFORM: PasskeyAuthenticator
PASSKEY_AUTHENTICATOR_CROSS_PLATFORM: PasskeyAuthenticator

class SendPasskeyRegistrationLink(_message.Message):
    __slots__ = ("url_template",)
    URL_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    url_template: str
    def __init__(self, url_template: _Optional[str] = ...) -> None: ...

class ReturnPasskeyRegistrationCode(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PasskeyRegistrationCode(_message.Message):
    __slots__ = ("id", "code")
    ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    id: str
    code: str
    def __init__(self, id: _Optional[str] = ..., code: _Optional[str] = ...) -> None: ...

class Passkey(_message.Message):
    __slots__ = ("id", "state", "name")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    id: str
    state: _auth_pb2.AuthFactorState
    name: str
    def __init__(self, id: _Optional[str] = ..., state: _Optional[_Union[_auth_pb2.AuthFactorState, str]] = ..., name: _Optional[str] = ...) -> None: ...
