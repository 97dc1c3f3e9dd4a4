from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SetHumanEmail(_message.Message):
    __slots__ = ("email", "send_code", "return_code", "is_verified")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    SEND_CODE_FIELD_NUMBER: _ClassVar[int]
    RETURN_CODE_FIELD_NUMBER: _ClassVar[int]
    IS_VERIFIED_FIELD_NUMBER: _ClassVar[int]
    email: str
    send_code: SendEmailVerificationCode
    return_code: ReturnEmailVerificationCode
    is_verified: bool
    def __init__(self, email: _Optional[str] = ..., send_code: _Optional[_Union[SendEmailVerificationCode, _Mapping]] = ..., return_code: _Optional[_Union[ReturnEmailVerificationCode, _Mapping]] = ..., is_verified: _Optional[bool] = ...) -> None: ...

class SendEmailVerificationCode(_message.Message):
    __slots__ = ("url_template",)
    URL_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    url_template: str
    def __init__(self, url_template: _Optional[str] = ...) -> None: ...

class ReturnEmailVerificationCode(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
