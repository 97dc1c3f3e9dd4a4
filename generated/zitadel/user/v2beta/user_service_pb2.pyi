from google.api import annotations_pb2 as _annotations_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from zitadel.object.v2beta import object_pb2 as _object_pb2
from zitadel.user.v2beta import auth_pb2 as _auth_pb2
from zitadel.user.v2beta import email_pb2 as _email_pb2
from zitadel.user.v2beta import idp_pb2 as _idp_pb2
from zitadel.user.v2beta import password_pb2 as _password_pb2
from zitadel.user.v2beta import phone_pb2 as _phone_pb2
from zitadel.user.v2beta import user_pb2 as _user_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AddHumanUserRequest(_message.Message):
    __slots__ = ("user_id", "username", "organization", "profile", "email", "phone", "metadata", "password", "hashed_password", "idp_links", "totp_secret")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    PROFILE_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    HASHED_PASSWORD_FIELD_NUMBER: _ClassVar[int]
    IDP_LINKS_FIELD_NUMBER: _ClassVar[int]
    TOTP_SECRET_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    username: str
    organization: _object_pb2.Organization
    profile: _user_pb2.SetHumanProfile
    email: _email_pb2.SetHumanEmail
    phone: _phone_pb2.SetHumanPhone
    metadata: _containers.RepeatedCompositeFieldContainer[_user_pb2.SetMetadataEntry]
    password: _password_pb2.Password
    hashed_password: _password_pb2.HashedPassword
    idp_links: _containers.RepeatedCompositeFieldContainer[_idp_pb2.IDPLink]
    totp_secret: str
    def __init__(self, user_id: _Optional[str] = ..., username: _Optional[str] = ..., organization: _Optional[_Union[_object_pb2.Organization, _Mapping]] = ..., profile: _Optional[_Union[_user_pb2.SetHumanProfile, _Mapping]] = ..., email: _Optional[_Union[_email_pb2.SetHumanEmail, _Mapping]] = ..., phone: _Optional[_Union[_phone_pb2.SetHumanPhone, _Mapping]] = ..., metadata: _Optional[_Iterable[_Union[_user_pb2.SetMetadataEntry, _Mapping]]] = ..., password: _Optional[_Union[_password_pb2.Password, _Mapping]] = ..., hashed_password: _Optional[_Union[_password_pb2.HashedPassword, _Mapping]] = ..., idp_links: _Optional[_Iterable[_Union[_idp_pb2.IDPLink, _Mapping]]] = ..., totp_secret: _Optional[str] = ...) -> None: ...

class AddHumanUserResponse(_message.Message):
    __slots__ = ("user_id", "details", "email_code", "phone_code")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    EMAIL_CODE_FIELD_NUMBER: _ClassVar[int]
    PHONE_CODE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    details: _object_pb2.Details
    email_code: str
    phone_code: str
    def __init__(self, user_id: _Optional[str] = ..., details: _Optional[_Union[_object_pb2.Details, _Mapping]] = ..., email_code: _Optional[str] = ..., phone_code: _Optional[str] = ...) -> None: ...

class RegisterPasskeyRequest(_message.Message):
    __slots__ = ("user_id", "code", "authenticator", "domain")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    AUTHENTICATOR_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    code: _auth_pb2.PasskeyRegistrationCode
    authenticator: _auth_pb2.PasskeyAuthenticator
    domain: str
    def __init__(self, user_id: _Optional[str] = ..., code: _Optional[_Union[_auth_pb2.PasskeyRegistrationCode, _Mapping]] = ..., authenticator: _Optional[_Union[_auth_pb2.PasskeyAuthenticator, str]] = ..., domain: _Optional[str] = ...) -> None: ...

class RegisterPasskeyResponse(_message.Message):
    __slots__ = ("details", "passkey_id", "public_key_credential_creation_options")
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    PASSKEY_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_CREDENTIAL_CREATION_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.Details
    passkey_id: str
    public_key_credential_creation_options: _struct_pb2.Struct
    def __init__(self, details: _Optional[_Union[_object_pb2.Details, _Mapping]] = ..., passkey_id: _Optional[str] = ..., public_key_credential_creation_options: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class VerifyPasskeyRegistrationRequest(_message.Message):
    __slots__ = ("user_id", "passkey_id", "public_key_credential", "passkey_name")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    PASSKEY_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_CREDENTIAL_FIELD_NUMBER: _ClassVar[int]
    PASSKEY_NAME_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    passkey_id: str
    public_key_credential: _struct_pb2.Struct
    passkey_name: str
    def __init__(self, user_id: _Optional[str] = ..., passkey_id: _Optional[str] = ..., public_key_credential: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., passkey_name: _Optional[str] = ...) -> None: ...

class VerifyPasskeyRegistrationResponse(_message.Message):
    __slots__ = ("details",)
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.Details
    def __init__(self, details: _Optional[_Union[_object_pb2.Details, _Mapping]] = ...) -> None: ...

class CreatePasskeyRegistrationLinkRequest(_message.Message):
    __slots__ = ("user_id", "send_link", "return_code")
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    SEND_LINK_FIELD_NUMBER: _ClassVar[int]
    RETURN_CODE_FIELD_NUMBER: _ClassVar[int]
    user_id: str
    send_link: _auth_pb2.SendPasskeyRegistrationLink
    return_code: _auth_pb2.ReturnPasskeyRegistrationCode
    def __init__(self, user_id: _Optional[str] = ..., send_link: _Optional[_Union[_auth_pb2.SendPasskeyRegistrationLink, _Mapping]] = ..., return_code: _Optional[_Union[_auth_pb2.ReturnPasskeyRegistrationCode, _Mapping]] = ...) -> None: ...

class CreatePasskeyRegistrationLinkResponse(_message.Message):
    __slots__ = ("details", "code")
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    details: _object_pb2.Details
    code: _auth_pb2.PasskeyRegistrationCode
    def __init__(self, details: _Optional[_Union[_object_pb2.Details, _Mapping]] = ..., code: _Optional[_Union[_auth_pb2.PasskeyRegistrationCode, _Mapping]] = ...) -> None: ...
