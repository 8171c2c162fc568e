from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Dataset(_message.Message):
    __slots__ = ("file_id", "tenant_id", "filename", "uri", "sha256", "bytes", "created_at")
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    file_id: str
    tenant_id: str
    filename: str
    uri: str
    sha256: str
    bytes: int
    created_at: int
    def __init__(self, file_id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., filename: _Optional[str] = ..., uri: _Optional[str] = ..., sha256: _Optional[str] = ..., bytes: _Optional[int] = ..., created_at: _Optional[int] = ...) -> None: ...

class RegisterDatasetRequest(_message.Message):
    __slots__ = ("dataset",)
    DATASET_FIELD_NUMBER: _ClassVar[int]
    dataset: Dataset
    def __init__(self, dataset: _Optional[_Union[Dataset, _Mapping]] = ...) -> None: ...

class RegisterDatasetResponse(_message.Message):
    __slots__ = ("dataset",)
    DATASET_FIELD_NUMBER: _ClassVar[int]
    dataset: Dataset
    def __init__(self, dataset: _Optional[_Union[Dataset, _Mapping]] = ...) -> None: ...

class CleaningOptions(_message.Message):
    __slots__ = ("scrub_pii", "validation_split")
    SCRUB_PII_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_SPLIT_FIELD_NUMBER: _ClassVar[int]
    scrub_pii: bool
    validation_split: float
    def __init__(self, scrub_pii: _Optional[bool] = ..., validation_split: _Optional[float] = ...) -> None: ...

class ValidationIssue(_message.Message):
    __slots__ = ("line", "code", "message")
    LINE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    line: int
    code: str
    message: str
    def __init__(self, line: _Optional[int] = ..., code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class TokenStats(_message.Message):
    __slots__ = ("total", "min", "max", "mean", "p50", "p95")
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    P50_FIELD_NUMBER: _ClassVar[int]
    P95_FIELD_NUMBER: _ClassVar[int]
    total: int
    min: int
    max: int
    mean: float
    p50: int
    p95: int
    def __init__(self, total: _Optional[int] = ..., min: _Optional[int] = ..., max: _Optional[int] = ..., mean: _Optional[float] = ..., p50: _Optional[int] = ..., p95: _Optional[int] = ...) -> None: ...

class ValidationReport(_message.Message):
    __slots__ = ("format", "ok", "lines", "examples", "train_examples", "validation_examples", "duplicates_removed", "pii_redactions", "truncated", "tokens", "errors", "warnings", "estimated_steps", "max_seq_length", "base_model")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    TRAIN_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    PII_REDACTIONS_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_STEPS_FIELD_NUMBER: _ClassVar[int]
    MAX_SEQ_LENGTH_FIELD_NUMBER: _ClassVar[int]
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    format: str
    ok: bool
    lines: int
    examples: int
    train_examples: int
    validation_examples: int
    duplicates_removed: int
    pii_redactions: int
    truncated: int
    tokens: TokenStats
    errors: _containers.RepeatedCompositeFieldContainer[ValidationIssue]
    warnings: _containers.RepeatedCompositeFieldContainer[ValidationIssue]
    estimated_steps: int
    max_seq_length: int
    base_model: str
    def __init__(self, format: _Optional[str] = ..., ok: _Optional[bool] = ..., lines: _Optional[int] = ..., examples: _Optional[int] = ..., train_examples: _Optional[int] = ..., validation_examples: _Optional[int] = ..., duplicates_removed: _Optional[int] = ..., pii_redactions: _Optional[int] = ..., truncated: _Optional[int] = ..., tokens: _Optional[_Union[TokenStats, _Mapping]] = ..., errors: _Optional[_Iterable[_Union[ValidationIssue, _Mapping]]] = ..., warnings: _Optional[_Iterable[_Union[ValidationIssue, _Mapping]]] = ..., estimated_steps: _Optional[int] = ..., max_seq_length: _Optional[int] = ..., base_model: _Optional[str] = ...) -> None: ...

class ValidateDatasetRequest(_message.Message):
    __slots__ = ("tenant_id", "file_id", "model", "cleaning", "hyperparameters")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    CLEANING_FIELD_NUMBER: _ClassVar[int]
    HYPERPARAMETERS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    file_id: str
    model: str
    cleaning: CleaningOptions
    hyperparameters: Hyperparameters
    def __init__(self, tenant_id: _Optional[str] = ..., file_id: _Optional[str] = ..., model: _Optional[str] = ..., cleaning: _Optional[_Union[CleaningOptions, _Mapping]] = ..., hyperparameters: _Optional[_Union[Hyperparameters, _Mapping]] = ...) -> None: ...

class ValidateDatasetResponse(_message.Message):
    __slots__ = ("report",)
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: ValidationReport
    def __init__(self, report: _Optional[_Union[ValidationReport, _Mapping]] = ...) -> None: ...

class DeleteDatasetRequest(_message.Message):
    __slots__ = ("tenant_id", "file_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    file_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., file_id: _Optional[str] = ...) -> None: ...

class DeleteDatasetResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Hyperparameters(_message.Message):
    __slots__ = ("n_epochs", "batch_size", "learning_rate_multiplier")
    N_EPOCHS_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_MULTIPLIER_FIELD_NUMBER: _ClassVar[int]
    n_epochs: int
    batch_size: int
    learning_rate_multiplier: float
    def __init__(self, n_epochs: _Optional[int] = ..., batch_size: _Optional[int] = ..., learning_rate_multiplier: _Optional[float] = ...) -> None: ...

class LoraConfig(_message.Message):
    __slots__ = ("rank", "alpha", "target_modules", "dropout")
    RANK_FIELD_NUMBER: _ClassVar[int]
    ALPHA_FIELD_NUMBER: _ClassVar[int]
    TARGET_MODULES_FIELD_NUMBER: _ClassVar[int]
    DROPOUT_FIELD_NUMBER: _ClassVar[int]
    rank: int
    alpha: int
    target_modules: _containers.RepeatedScalarFieldContainer[str]
    dropout: float
    def __init__(self, rank: _Optional[int] = ..., alpha: _Optional[int] = ..., target_modules: _Optional[_Iterable[str]] = ..., dropout: _Optional[float] = ...) -> None: ...

class JobError(_message.Message):
    __slots__ = ("code", "message", "param")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    PARAM_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    param: str
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., param: _Optional[str] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("id", "tenant_id", "model", "fine_tuned_model", "status", "training_file", "validation_file", "hyperparameters", "method", "suffix", "seed", "created_at", "finished_at", "trained_tokens", "error", "estimated_finish", "result_files", "lora", "cleaning", "validation_report", "schedule_id", "attempts")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    FINE_TUNED_MODEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_FILE_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_FILE_FIELD_NUMBER: _ClassVar[int]
    HYPERPARAMETERS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    SUFFIX_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    TRAINED_TOKENS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ESTIMATED_FINISH_FIELD_NUMBER: _ClassVar[int]
    RESULT_FILES_FIELD_NUMBER: _ClassVar[int]
    LORA_FIELD_NUMBER: _ClassVar[int]
    CLEANING_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_REPORT_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    model: str
    fine_tuned_model: str
    status: str
    training_file: str
    validation_file: str
    hyperparameters: Hyperparameters
    method: str
    suffix: str
    seed: int
    created_at: int
    finished_at: int
    trained_tokens: int
    error: JobError
    estimated_finish: int
    result_files: _containers.RepeatedScalarFieldContainer[str]
    lora: LoraConfig
    cleaning: CleaningOptions
    validation_report: ValidationReport
    schedule_id: str
    attempts: int
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., model: _Optional[str] = ..., fine_tuned_model: _Optional[str] = ..., status: _Optional[str] = ..., training_file: _Optional[str] = ..., validation_file: _Optional[str] = ..., hyperparameters: _Optional[_Union[Hyperparameters, _Mapping]] = ..., method: _Optional[str] = ..., suffix: _Optional[str] = ..., seed: _Optional[int] = ..., created_at: _Optional[int] = ..., finished_at: _Optional[int] = ..., trained_tokens: _Optional[int] = ..., error: _Optional[_Union[JobError, _Mapping]] = ..., estimated_finish: _Optional[int] = ..., result_files: _Optional[_Iterable[str]] = ..., lora: _Optional[_Union[LoraConfig, _Mapping]] = ..., cleaning: _Optional[_Union[CleaningOptions, _Mapping]] = ..., validation_report: _Optional[_Union[ValidationReport, _Mapping]] = ..., schedule_id: _Optional[str] = ..., attempts: _Optional[int] = ...) -> None: ...

class CreateJobRequest(_message.Message):
    __slots__ = ("tenant_id", "model", "training_file", "validation_file", "suffix", "seed", "hyperparameters", "method", "lora", "cleaning")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TRAINING_FILE_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_FILE_FIELD_NUMBER: _ClassVar[int]
    SUFFIX_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    HYPERPARAMETERS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    LORA_FIELD_NUMBER: _ClassVar[int]
    CLEANING_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    model: str
    training_file: str
    validation_file: str
    suffix: str
    seed: int
    hyperparameters: Hyperparameters
    method: str
    lora: LoraConfig
    cleaning: CleaningOptions
    def __init__(self, tenant_id: _Optional[str] = ..., model: _Optional[str] = ..., training_file: _Optional[str] = ..., validation_file: _Optional[str] = ..., suffix: _Optional[str] = ..., seed: _Optional[int] = ..., hyperparameters: _Optional[_Union[Hyperparameters, _Mapping]] = ..., method: _Optional[str] = ..., lora: _Optional[_Union[LoraConfig, _Mapping]] = ..., cleaning: _Optional[_Union[CleaningOptions, _Mapping]] = ...) -> None: ...

class CreateJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("tenant_id", "job_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    job_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., job_id: _Optional[str] = ...) -> None: ...

class GetJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("tenant_id", "after", "limit")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    after: str
    limit: int
    def __init__(self, tenant_id: _Optional[str] = ..., after: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "has_more")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    has_more: bool
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("tenant_id", "job_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    job_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., job_id: _Optional[str] = ...) -> None: ...

class CancelJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: Job
    def __init__(self, job: _Optional[_Union[Job, _Mapping]] = ...) -> None: ...

class JobEvent(_message.Message):
    __slots__ = ("id", "job_id", "created_at", "level", "message", "type", "data_json", "seq")
    ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    id: str
    job_id: str
    created_at: int
    level: str
    message: str
    type: str
    data_json: str
    seq: int
    def __init__(self, id: _Optional[str] = ..., job_id: _Optional[str] = ..., created_at: _Optional[int] = ..., level: _Optional[str] = ..., message: _Optional[str] = ..., type: _Optional[str] = ..., data_json: _Optional[str] = ..., seq: _Optional[int] = ...) -> None: ...

class ListJobEventsRequest(_message.Message):
    __slots__ = ("tenant_id", "job_id", "after", "limit")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    job_id: str
    after: str
    limit: int
    def __init__(self, tenant_id: _Optional[str] = ..., job_id: _Optional[str] = ..., after: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListJobEventsResponse(_message.Message):
    __slots__ = ("events", "has_more")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[JobEvent]
    has_more: bool
    def __init__(self, events: _Optional[_Iterable[_Union[JobEvent, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class WatchJobEventsRequest(_message.Message):
    __slots__ = ("tenant_id", "job_id", "after_seq")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    job_id: str
    after_seq: int
    def __init__(self, tenant_id: _Optional[str] = ..., job_id: _Optional[str] = ..., after_seq: _Optional[int] = ...) -> None: ...

class WatchJobEventsResponse(_message.Message):
    __slots__ = ("event",)
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: JobEvent
    def __init__(self, event: _Optional[_Union[JobEvent, _Mapping]] = ...) -> None: ...

class Checkpoint(_message.Message):
    __slots__ = ("id", "job_id", "created_at", "step_number", "metrics", "fine_tuned_model_checkpoint", "artifact_uri")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STEP_NUMBER_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    FINE_TUNED_MODEL_CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_URI_FIELD_NUMBER: _ClassVar[int]
    id: str
    job_id: str
    created_at: int
    step_number: int
    metrics: _containers.ScalarMap[str, float]
    fine_tuned_model_checkpoint: str
    artifact_uri: str
    def __init__(self, id: _Optional[str] = ..., job_id: _Optional[str] = ..., created_at: _Optional[int] = ..., step_number: _Optional[int] = ..., metrics: _Optional[_Mapping[str, float]] = ..., fine_tuned_model_checkpoint: _Optional[str] = ..., artifact_uri: _Optional[str] = ...) -> None: ...

class ListJobCheckpointsRequest(_message.Message):
    __slots__ = ("tenant_id", "job_id", "after", "limit")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    job_id: str
    after: str
    limit: int
    def __init__(self, tenant_id: _Optional[str] = ..., job_id: _Optional[str] = ..., after: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListJobCheckpointsResponse(_message.Message):
    __slots__ = ("checkpoints", "has_more")
    CHECKPOINTS_FIELD_NUMBER: _ClassVar[int]
    HAS_MORE_FIELD_NUMBER: _ClassVar[int]
    checkpoints: _containers.RepeatedCompositeFieldContainer[Checkpoint]
    has_more: bool
    def __init__(self, checkpoints: _Optional[_Iterable[_Union[Checkpoint, _Mapping]]] = ..., has_more: _Optional[bool] = ...) -> None: ...

class AdapterVersion(_message.Message):
    __slots__ = ("model", "tenant_id", "name", "version", "base_model", "job_id", "dataset_sha256", "hyperparameters_json", "metrics", "artifact_uri", "sha256", "status", "created_at")
    class MetricsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    DATASET_SHA256_FIELD_NUMBER: _ClassVar[int]
    HYPERPARAMETERS_JSON_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    ARTIFACT_URI_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    model: str
    tenant_id: str
    name: str
    version: int
    base_model: str
    job_id: str
    dataset_sha256: str
    hyperparameters_json: str
    metrics: _containers.ScalarMap[str, float]
    artifact_uri: str
    sha256: str
    status: str
    created_at: int
    def __init__(self, model: _Optional[str] = ..., tenant_id: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[int] = ..., base_model: _Optional[str] = ..., job_id: _Optional[str] = ..., dataset_sha256: _Optional[str] = ..., hyperparameters_json: _Optional[str] = ..., metrics: _Optional[_Mapping[str, float]] = ..., artifact_uri: _Optional[str] = ..., sha256: _Optional[str] = ..., status: _Optional[str] = ..., created_at: _Optional[int] = ...) -> None: ...

class AdapterAlias(_message.Message):
    __slots__ = ("tenant_id", "alias", "model", "target", "history", "updated_at")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    alias: str
    model: str
    target: str
    history: _containers.RepeatedScalarFieldContainer[str]
    updated_at: int
    def __init__(self, tenant_id: _Optional[str] = ..., alias: _Optional[str] = ..., model: _Optional[str] = ..., target: _Optional[str] = ..., history: _Optional[_Iterable[str]] = ..., updated_at: _Optional[int] = ...) -> None: ...

class ListAdapterVersionsRequest(_message.Message):
    __slots__ = ("tenant_id", "name", "include_retired")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_RETIRED_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    name: str
    include_retired: bool
    def __init__(self, tenant_id: _Optional[str] = ..., name: _Optional[str] = ..., include_retired: _Optional[bool] = ...) -> None: ...

class ListAdapterVersionsResponse(_message.Message):
    __slots__ = ("versions",)
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[AdapterVersion]
    def __init__(self, versions: _Optional[_Iterable[_Union[AdapterVersion, _Mapping]]] = ...) -> None: ...

class GetAdapterVersionRequest(_message.Message):
    __slots__ = ("tenant_id", "model")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    model: str
    def __init__(self, tenant_id: _Optional[str] = ..., model: _Optional[str] = ...) -> None: ...

class GetAdapterVersionResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: AdapterVersion
    def __init__(self, version: _Optional[_Union[AdapterVersion, _Mapping]] = ...) -> None: ...

class RetireAdapterVersionRequest(_message.Message):
    __slots__ = ("tenant_id", "model")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    model: str
    def __init__(self, tenant_id: _Optional[str] = ..., model: _Optional[str] = ...) -> None: ...

class RetireAdapterVersionResponse(_message.Message):
    __slots__ = ("version",)
    VERSION_FIELD_NUMBER: _ClassVar[int]
    version: AdapterVersion
    def __init__(self, version: _Optional[_Union[AdapterVersion, _Mapping]] = ...) -> None: ...

class SetAdapterAliasRequest(_message.Message):
    __slots__ = ("tenant_id", "alias", "target")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    alias: str
    target: str
    def __init__(self, tenant_id: _Optional[str] = ..., alias: _Optional[str] = ..., target: _Optional[str] = ...) -> None: ...

class SetAdapterAliasResponse(_message.Message):
    __slots__ = ("alias",)
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    alias: AdapterAlias
    def __init__(self, alias: _Optional[_Union[AdapterAlias, _Mapping]] = ...) -> None: ...

class RollbackAdapterAliasRequest(_message.Message):
    __slots__ = ("tenant_id", "alias")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    alias: str
    def __init__(self, tenant_id: _Optional[str] = ..., alias: _Optional[str] = ...) -> None: ...

class RollbackAdapterAliasResponse(_message.Message):
    __slots__ = ("alias",)
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    alias: AdapterAlias
    def __init__(self, alias: _Optional[_Union[AdapterAlias, _Mapping]] = ...) -> None: ...

class ListAdapterAliasesRequest(_message.Message):
    __slots__ = ("tenant_id",)
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    def __init__(self, tenant_id: _Optional[str] = ...) -> None: ...

class ListAdapterAliasesResponse(_message.Message):
    __slots__ = ("aliases",)
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    aliases: _containers.RepeatedCompositeFieldContainer[AdapterAlias]
    def __init__(self, aliases: _Optional[_Iterable[_Union[AdapterAlias, _Mapping]]] = ...) -> None: ...

class DeleteAdapterAliasRequest(_message.Message):
    __slots__ = ("tenant_id", "alias")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    alias: str
    def __init__(self, tenant_id: _Optional[str] = ..., alias: _Optional[str] = ...) -> None: ...

class DeleteAdapterAliasResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Schedule(_message.Message):
    __slots__ = ("id", "tenant_id", "cron", "training_file", "training_filename", "model", "suffix", "hyperparameters", "lora", "cleaning", "status", "created_at", "next_run_at", "last_run_at", "last_job_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    CRON_FIELD_NUMBER: _ClassVar[int]
    TRAINING_FILE_FIELD_NUMBER: _ClassVar[int]
    TRAINING_FILENAME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SUFFIX_FIELD_NUMBER: _ClassVar[int]
    HYPERPARAMETERS_FIELD_NUMBER: _ClassVar[int]
    LORA_FIELD_NUMBER: _ClassVar[int]
    CLEANING_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    NEXT_RUN_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_RUN_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    tenant_id: str
    cron: str
    training_file: str
    training_filename: str
    model: str
    suffix: str
    hyperparameters: Hyperparameters
    lora: LoraConfig
    cleaning: CleaningOptions
    status: str
    created_at: int
    next_run_at: int
    last_run_at: int
    last_job_id: str
    def __init__(self, id: _Optional[str] = ..., tenant_id: _Optional[str] = ..., cron: _Optional[str] = ..., training_file: _Optional[str] = ..., training_filename: _Optional[str] = ..., model: _Optional[str] = ..., suffix: _Optional[str] = ..., hyperparameters: _Optional[_Union[Hyperparameters, _Mapping]] = ..., lora: _Optional[_Union[LoraConfig, _Mapping]] = ..., cleaning: _Optional[_Union[CleaningOptions, _Mapping]] = ..., status: _Optional[str] = ..., created_at: _Optional[int] = ..., next_run_at: _Optional[int] = ..., last_run_at: _Optional[int] = ..., last_job_id: _Optional[str] = ...) -> None: ...

class CreateScheduleRequest(_message.Message):
    __slots__ = ("schedule",)
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    schedule: Schedule
    def __init__(self, schedule: _Optional[_Union[Schedule, _Mapping]] = ...) -> None: ...

class CreateScheduleResponse(_message.Message):
    __slots__ = ("schedule",)
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    schedule: Schedule
    def __init__(self, schedule: _Optional[_Union[Schedule, _Mapping]] = ...) -> None: ...

class GetScheduleRequest(_message.Message):
    __slots__ = ("tenant_id", "schedule_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    schedule_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., schedule_id: _Optional[str] = ...) -> None: ...

class GetScheduleResponse(_message.Message):
    __slots__ = ("schedule",)
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    schedule: Schedule
    def __init__(self, schedule: _Optional[_Union[Schedule, _Mapping]] = ...) -> None: ...

class ListSchedulesRequest(_message.Message):
    __slots__ = ("tenant_id",)
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    def __init__(self, tenant_id: _Optional[str] = ...) -> None: ...

class ListSchedulesResponse(_message.Message):
    __slots__ = ("schedules",)
    SCHEDULES_FIELD_NUMBER: _ClassVar[int]
    schedules: _containers.RepeatedCompositeFieldContainer[Schedule]
    def __init__(self, schedules: _Optional[_Iterable[_Union[Schedule, _Mapping]]] = ...) -> None: ...

class PauseScheduleRequest(_message.Message):
    __slots__ = ("tenant_id", "schedule_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    schedule_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., schedule_id: _Optional[str] = ...) -> None: ...

class PauseScheduleResponse(_message.Message):
    __slots__ = ("schedule",)
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    schedule: Schedule
    def __init__(self, schedule: _Optional[_Union[Schedule, _Mapping]] = ...) -> None: ...

class ResumeScheduleRequest(_message.Message):
    __slots__ = ("tenant_id", "schedule_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    schedule_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., schedule_id: _Optional[str] = ...) -> None: ...

class ResumeScheduleResponse(_message.Message):
    __slots__ = ("schedule",)
    SCHEDULE_FIELD_NUMBER: _ClassVar[int]
    schedule: Schedule
    def __init__(self, schedule: _Optional[_Union[Schedule, _Mapping]] = ...) -> None: ...

class DeleteScheduleRequest(_message.Message):
    __slots__ = ("tenant_id", "schedule_id")
    TENANT_ID_FIELD_NUMBER: _ClassVar[int]
    SCHEDULE_ID_FIELD_NUMBER: _ClassVar[int]
    tenant_id: str
    schedule_id: str
    def __init__(self, tenant_id: _Optional[str] = ..., schedule_id: _Optional[str] = ...) -> None: ...

class DeleteScheduleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
