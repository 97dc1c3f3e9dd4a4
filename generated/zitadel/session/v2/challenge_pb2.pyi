from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UserVerificationRequirement(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USER_VERIFICATION_REQUIREMENT_UNSPECIFIED: _ClassVar[UserVerificationRequirement]
    USER_VERIFICATION_REQUIREMENT_REQUIRED: _ClassVar[UserVerificationRequirement]
    USER_VERIFICATION_REQUIREMENT_PREFERRED: _ClassVar[UserVerificationRequirement]
    USER_VERIFICATION_REQUIREMENT_DISCOURAGED: _ClassVar[UserVerificationRequirement]
USER_VERIFICATION_REQUIREMENT_UNSPECIFIED: UserVerificationRequirement
USER_VERIFICATION_REQUIREMENT_REQUIRED: UserVerificationRequirement
USER_VERIFICATION_REQUIREMENT_PREFERRED: UserVerificationRequirement
USER_VERIFICATION_REQUIREMENT_DISCOURAGED: UserVerificationRequirement

class RequestChallenges(_message.Message):
    __slots__ = ("web_auth_n", "otp_sms", "otp_email")
    class WebAuthN(_message.Message):
        __slots__ = ("domain", "user_verification_requirement")
        DOMAIN_FIELD_NUMBER: _ClassVar[int]
        USER_VERIFICATION_REQUIREMENT_FIELD_NUMBER: _ClassVar[int]
        domain: str
        user_verification_requirement: UserVerificationRequirement
        def __init__(self, domain: _Optional[str] = ..., user_verification_requirement: _Optional[_Union[UserVerificationRequirement, str]] = ...) -> None: ...
    class OTPSMS(_message.Message):
        __slots__ = ("return_code",)
        RETURN_CODE_FIELD_NUMBER: _ClassVar[int]
        return_code: bool
        def __init__(self, return_code: _Optional[bool] = ...) -> None: ...
    class OTPEmail(_message.Message):
        __slots__ = ("send_code", "return_code")
        class SendCode(_message.Message):
            __slots__ = ("url_template",)
            URL_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
            url_template: str
            def __init__(self, url_template: _Optional[str] = ...) -> None: ...
        class ReturnCode(_message.Message):
            __slots__ = ()
            def __init__(self) -> None: ...
        SEND_CODE_FIELD_NUMBER: _ClassVar[int]
        RETURN_CODE_FIELD_NUMBER: _ClassVar[int]
        send_code: RequestChallenges.OTPEmail.SendCode
        return_code: RequestChallenges.OTPEmail.ReturnCode
        def __init__(self, send_code: _Optional[_Union[RequestChallenges.OTPEmail.SendCode, _Mapping]] = ..., return_code: _Optional[_Union[RequestChallenges.OTPEmail.ReturnCode, _Mapping]] = ...) -> None: ...
    WEB_AUTH_N_FIELD_NUMBER: _ClassVar[int]
    OTP_SMS_FIELD_NUMBER: _ClassVar[int]
    OTP_EMAIL_FIELD_NUMBER: _ClassVar[int]
    web_auth_n: RequestChallenges.WebAuthN
    otp_sms: RequestChallenges.OTPSMS
    otp_email: RequestChallenges.OTPEmail
    def __init__(self, web_auth_n: _Optional[_Union[RequestChallenges.WebAuthN, _Mapping]] = ..., otp_sms: _Optional[_Union[RequestChallenges.OTPSMS, _Mapping]] = ..., otp_email: _Optional[_Union[RequestChallenges.OTPEmail, _Mapping]] = ...) -> None: ...

class Challenges(_message.Message):
    __slots__ = ("web_auth_n", "otp_sms", "otp_email")
    class WebAuthN(_message.Message):
        __slots__ = ("public_key_credential_request_options",)
        PUBLIC_KEY_CREDENTIAL_REQUEST_OPTIONS_FIELD_NUMBER: _ClassVar[int]
        public_key_credential_request_options: _struct_pb2.Struct
        def __init__(self, public_key_credential_request_options: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
    WEB_AUTH_N_FIELD_NUMBER: _ClassVar[int]
    OTP_SMS_FIELD_NUMBER: _ClassVar[int]
    OTP_EMAIL_FIELD_NUMBER: _ClassVar[int]
    web_auth_n: Challenges.WebAuthN
    otp_sms: str
    otp_email: str
    def __init__(self, web_auth_n: _Optional[_Union[Challenges.WebAuthN, _Mapping]] = ..., otp_sms: _Optional[str] = ..., otp_email: _Optional[str] = ...) -> None: ...
