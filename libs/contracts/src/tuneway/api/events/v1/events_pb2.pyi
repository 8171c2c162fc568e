from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

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

class BatchRequested(_message.Message):
    __slots__ = ("batch_id", "tenant_id", "requested_at")
    BATCH_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    batch_id: str
    tenant_id: str
    requested_at: int
    def __init__(self, batch_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., requested_at: _Optional[int] = ...) -> None: ...

class CompletionEvent(_message.Message):
    __slots__ = ("request_id", "tenant_id", "api_key_id", "created_at_ms", "endpoint", "kind", "model", "base_model", "adapter", "assistant", "prompt_name", "prompt_version", "prompt_label", "variant", "language", "language_detected", "channel", "tone", "experiment_id", "experiment_arm", "user", "conversation_id", "status", "error_code", "http_status", "finish_reason", "prompt_tokens", "completion_tokens", "latency_ms", "time_to_first_token_ms", "streamed", "knowledge_sources", "knowledge_top_score", "knowledge_no_answer", "last_user_message")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    API_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    ENDPOINT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    ADAPTER_FIELD_NUMBER: _ClassVar[int]
    ASSISTANT_FIELD_NUMBER: _ClassVar[int]
    PROMPT_NAME_FIELD_NUMBER: _ClassVar[int]
    PROMPT_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROMPT_LABEL_FIELD_NUMBER: _ClassVar[int]
    VARIANT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_DETECTED_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    TONE_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_ID_FIELD_NUMBER: _ClassVar[int]
    EXPERIMENT_ARM_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    HTTP_STATUS_FIELD_NUMBER: _ClassVar[int]
    FINISH_REASON_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    LATENCY_MS_FIELD_NUMBER: _ClassVar[int]
    TIME_TO_FIRST_TOKEN_MS_FIELD_NUMBER: _ClassVar[int]
    STREAMED_FIELD_NUMBER: _ClassVar[int]
    KNOWLEDGE_SOURCES_FIELD_NUMBER: _ClassVar[int]
    KNOWLEDGE_TOP_SCORE_FIELD_NUMBER: _ClassVar[int]
    KNOWLEDGE_NO_ANSWER_FIELD_NUMBER: _ClassVar[int]
    LAST_USER_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    tenant_id: str
    api_key_id: str
    created_at_ms: int
    endpoint: str
    kind: str
    model: str
    base_model: str
    adapter: str
    assistant: str
    prompt_name: str
    prompt_version: int
    prompt_label: str
    variant: str
    language: str
    language_detected: bool
    channel: str
    tone: str
    experiment_id: str
    experiment_arm: str
    user: str
    conversation_id: str
    status: str
    error_code: str
    http_status: int
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    time_to_first_token_ms: float
    streamed: bool
    knowledge_sources: int
    knowledge_top_score: float
    knowledge_no_answer: bool
    last_user_message: str
    def __init__(self, request_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., api_key_id: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., endpoint: _Optional[str] = ..., kind: _Optional[str] = ..., model: _Optional[str] = ..., base_model: _Optional[str] = ..., adapter: _Optional[str] = ..., assistant: _Optional[str] = ..., prompt_name: _Optional[str] = ..., prompt_version: _Optional[int] = ..., prompt_label: _Optional[str] = ..., variant: _Optional[str] = ..., language: _Optional[str] = ..., language_detected: _Optional[bool] = ..., channel: _Optional[str] = ..., tone: _Optional[str] = ..., experiment_id: _Optional[str] = ..., experiment_arm: _Optional[str] = ..., user: _Optional[str] = ..., conversation_id: _Optional[str] = ..., status: _Optional[str] = ..., error_code: _Optional[str] = ..., http_status: _Optional[int] = ..., finish_reason: _Optional[str] = ..., prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ..., latency_ms: _Optional[float] = ..., time_to_first_token_ms: _Optional[float] = ..., streamed: _Optional[bool] = ..., knowledge_sources: _Optional[int] = ..., knowledge_top_score: _Optional[float] = ..., knowledge_no_answer: _Optional[bool] = ..., last_user_message: _Optional[str] = ...) -> None: ...

class FeedbackEvent(_message.Message):
    __slots__ = ("feedback_id", "tenant_id", "completion_id", "user", "created_at_ms", "rating", "score", "scale", "label", "comment", "api_key_id")
    FEEDBACK_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_ID_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    API_KEY_ID_FIELD_NUMBER: _ClassVar[int]
    feedback_id: str
    tenant_id: str
    completion_id: str
    user: str
    created_at_ms: int
    rating: int
    score: float
    scale: str
    label: str
    comment: str
    api_key_id: str
    def __init__(self, feedback_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., completion_id: _Optional[str] = ..., user: _Optional[str] = ..., created_at_ms: _Optional[int] = ..., rating: _Optional[int] = ..., score: _Optional[float] = ..., scale: _Optional[str] = ..., label: _Optional[str] = ..., comment: _Optional[str] = ..., api_key_id: _Optional[str] = ...) -> None: ...

class EventBatch(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[BatchedEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[BatchedEvent, _Mapping]]] = ...) -> None: ...

class BatchedEvent(_message.Message):
    __slots__ = ("subject", "msg_id", "data")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    subject: str
    msg_id: str
    data: bytes
    def __init__(self, subject: _Optional[str] = ..., msg_id: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...
