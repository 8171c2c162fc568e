"""Request bodies of /v1/prompts, /v1/experiments and /v1/assistants, and their protobuf forms."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.gateway.wire_types import PositiveInt32, Probability, UnicodeModel


class _Strict(UnicodeModel):
    # Platform resources are ours: a misspelt field is an error, not silently ignored.
    model_config = ConfigDict(extra="forbid")


class MessageIn(_Strict):
    role: Literal["system", "user", "assistant"]
    content: str = Field(description="Jinja template text (sandboxed).")


class VariableIn(_Strict):
    name: str
    description: str = ""
    default: str | None = Field(None, description="Without a default, requests must pass the variable.")


class ParametersIn(_Strict):
    temperature: Annotated[float, Field(ge=0, le=2)] | None = None
    top_p: Probability | None = None
    max_tokens: PositiveInt32 | None = None
    stop: Annotated[list[Annotated[str, Field(min_length=1)]], Field(max_length=4)] = []

    def to_proto(self) -> pb.ModelParameters:
        """The protobuf parameters (unset fields stay unset)."""
        return pb.ModelParameters(
            temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens, stop=self.stop
        )


class VariantIn(_Strict):
    language: str = Field("", description="ISO 639-1 code, e.g. de.")
    channel: str = ""
    tone: str = ""
    messages: list[MessageIn] = Field([], description="Replaces the version's messages when not empty.")
    output_style: str | None = None
    user_template: str | None = None


class SpecIn(_Strict):
    messages: list[MessageIn] = Field(
        [], description="The system instruction first, then few-shot user/assistant turns."
    )
    variables: list[VariableIn] = []
    parameters: ParametersIn | None = None
    output_style: str = Field("", description="Appended to the system message.")
    user_template: str = Field("", description="Wraps each user turn; `{{ message }}` is the user's text.")
    variants: list[VariantIn] = []

    def spec(self) -> pb.PromptSpec:
        """The protobuf spec."""
        return pb.PromptSpec(
            messages=[pb.MessageTemplate(role=m.role, content=m.content) for m in self.messages],
            variables=[
                pb.Variable(name=v.name, description=v.description, default=v.default) for v in self.variables
            ],
            parameters=(self.parameters or ParametersIn()).to_proto(),
            output_style=self.output_style,
            user_template=self.user_template,
            variants=[
                pb.PromptVariant(
                    language=v.language,
                    channel=v.channel,
                    tone=v.tone,
                    messages=[pb.MessageTemplate(role=m.role, content=m.content) for m in v.messages],
                    output_style=v.output_style,
                    user_template=v.user_template,
                )
                for v in self.variants
            ],
        )


class CreatePromptBody(SpecIn):
    """A prompt; `template` copies a role template as version 1, `messages` etc. define it directly."""

    name: str
    description: str = ""
    template: str | None = Field(None, description="A role template id (GET /v1/prompt_templates).")
    version_description: str = ""

    def to_proto(self, tenant_id: str) -> pb.CreatePromptRequest:
        """The RPC request; any content field makes version 1 (then checked in full: e.g. messages must
        not be empty)."""
        request = pb.CreatePromptRequest(
            tenant_id=tenant_id,
            name=self.name,
            description=self.description,
            template=self.template or "",
            version_description=self.version_description,
        )
        if self.model_fields_set & set(SpecIn.model_fields):
            request.spec.CopyFrom(self.spec())
        return request


class CreateVersionBody(SpecIn):
    """The next version of a prompt."""

    description: str = Field("", description="What changed, like a commit message.")
    labels: list[str] = Field([], description="Labels to point at the new version, e.g. staging.")

    def to_proto(self, tenant_id: str, prompt: str) -> pb.CreatePromptVersionRequest:
        """The RPC request."""
        return pb.CreatePromptVersionRequest(
            tenant_id=tenant_id,
            prompt=prompt,
            spec=self.spec(),
            description=self.description,
            labels=self.labels,
        )


class SetLabelBody(_Strict):
    version: PositiveInt32


class RenderMessage(_Strict):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str


class RenderBody(_Strict):
    """A render preview: a version or label (default production) with variables and a conversation."""

    version: PositiveInt32 | None = None
    label: str | None = None
    messages: list[RenderMessage] = []
    variables: dict[str, str] = {}
    user: str | None = None
    metadata: dict[str, str] | None = Field(None, description="language, channel, tone, conversation_id")


class ArmIn(_Strict):
    name: str
    version: PositiveInt32
    model: str = Field("", description="A model or adapter to use instead of the assistant's.")
    weight: Annotated[float, Field(gt=0)] = 1.0


class CreateExperimentBody(_Strict):
    name: str
    prompt: str
    label: str = Field("production", description="The label whose traffic is split.")
    description: str = ""
    variants: Annotated[list[ArmIn], Field(min_length=2)]

    def to_proto(self, tenant_id: str) -> pb.CreateExperimentRequest:
        """The RPC request."""
        return pb.CreateExperimentRequest(
            tenant_id=tenant_id,
            name=self.name,
            description=self.description,
            prompt=self.prompt,
            label=self.label,
            variants=[
                pb.ExperimentVariant(name=v.name, version=v.version, model=v.model, weight=v.weight)
                for v in self.variants
            ],
        )


class PromoteBody(_Strict):
    variant: str


class KnowledgeIn(_Strict):
    knowledge_base_ids: list[str] = []
    top_k: Annotated[int, Field(ge=0, le=100)] = 0
    score_threshold: Annotated[float, Field(ge=0, le=1)] = 0.0


class AssistantFields(_Strict):
    """Fields an assistant update may change (all optional)."""

    description: str | None = None
    base_model: str | None = None
    adapter: str | None = Field(None, description="A fine-tuned model (ft:...) to serve instead of the base.")
    prompt: str | None = None
    prompt_label: str | None = None
    parameters: ParametersIn | None = None
    channels: list[str] | None = None
    knowledge: KnowledgeIn | None = None

    def to_proto(self, name: str = "") -> tuple[pb.Assistant, list[str]]:
        """The protobuf assistant and the names of the fields this body sets."""
        fields = [f for f in type(self).model_fields if f != "name" and getattr(self, f) is not None]
        params = self.parameters.to_proto() if self.parameters else None
        knowledge = self.knowledge or KnowledgeIn()
        return (
            pb.Assistant(
                name=name,
                description=self.description or "",
                base_model=self.base_model or "",
                adapter=self.adapter or "",
                prompt=self.prompt or "",
                prompt_label=self.prompt_label or "",
                parameters=params,
                channels=self.channels or [],
                knowledge=pb.KnowledgeSettings(
                    knowledge_base_ids=knowledge.knowledge_base_ids,
                    top_k=knowledge.top_k,
                    score_threshold=knowledge.score_threshold,
                ),
            ),
            fields,
        )


class CreateAssistantBody(AssistantFields):
    """A new assistant, called as `model: "assistant:<name>"`."""

    name: str
    base_model: str  # type: ignore[assignment]
    prompt: str  # type: ignore[assignment]
