from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class AdapterRegistration(_message.Message):
    __slots__ = ("model", "tenant_id", "base_model", "artifact_uri", "sha256", "created_at", "job_id")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_URI_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    model: str
    tenant_id: str
    base_model: str
    artifact_uri: str
    sha256: str
    created_at: int
    job_id: str
    def __init__(self, model: _Optional[str] = ..., tenant_id: _Optional[str] = ..., base_model: _Optional[str] = ..., artifact_uri: _Optional[str] = ..., sha256: _Optional[str] = ..., created_at: _Optional[int] = ..., job_id: _Optional[str] = ...) -> None: ...

class TrainingJobRequested(_message.Message):
    __slots__ = ("job_id", "tenant_id", "requested_at")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    tenant_id: str
    requested_at: int
    def __init__(self, job_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., requested_at: _Optional[int] = ...) -> None: ...
