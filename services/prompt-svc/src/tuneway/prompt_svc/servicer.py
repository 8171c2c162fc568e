"""gRPC PromptService: converts between protobuf and the domain services; no logic here."""

from __future__ import annotations

import grpc

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.api.prompt.v1 import prompt_pb2_grpc
from tuneway.prompt_svc import convert
from tuneway.prompt_svc.render_pipeline import RenderRequest
from tuneway.prompt_svc.role_templates import TEMPLATES, get_template
from tuneway.prompt_svc.service import PromptService


class PromptServicer(prompt_pb2_grpc.PromptServiceServicer):
    """Serves every PromptService RPC."""

    def __init__(self, service: PromptService) -> None:
        self._s = service

    async def RenderPrompt(
        self, request: pb.RenderPromptRequest, context: grpc.aio.ServicerContext
    ) -> pb.RenderPromptResponse:
        result = await self._s.renderer.render(
            RenderRequest(
                tenant_id=request.tenant_id,
                assistant=request.assistant,
                prompt=request.prompt,
                version=request.version,
                label=request.label,
                messages=tuple(convert.turn_from(m) for m in request.messages),
                variables=dict(request.variables),
                user=request.user,
                conversation_id=request.conversation_id,
                language=request.language,
                channel=request.channel,
                tone=request.tone,
            )
        )
        return pb.RenderPromptResponse(
            messages=[convert.turn_to(m) for m in result.messages],
            parameters=convert.parameters_to(result.parameters),
            model=result.model,
            prompt_id=result.prompt_id,
            prompt_name=result.prompt_name,
            version=result.version,
            label=result.label,
            variant=result.variant,
            language=result.language,
            language_detected=result.language_detected,
            experiment_id=result.experiment_id,
            experiment_variant=result.experiment_variant,
            assistant=result.assistant,
            knowledge=convert.knowledge_to(result.knowledge) if result.knowledge else None,
        )

    async def ListTemplates(
        self, request: pb.ListTemplatesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListTemplatesResponse:
        return pb.ListTemplatesResponse(templates=[convert.template_to(t) for t in TEMPLATES.values()])

    async def GetTemplate(
        self, request: pb.GetTemplateRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetTemplateResponse:
        return pb.GetTemplateResponse(template=convert.template_to(get_template(request.id, "id")))

    async def CreatePrompt(
        self, request: pb.CreatePromptRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreatePromptResponse:
        prompt = await self._s.prompts.create_prompt(
            request.tenant_id,
            request.name,
            request.description,
            request.template,
            convert.spec_from(request.spec) if request.HasField("spec") else None,
            request.version_description,
        )
        return pb.CreatePromptResponse(prompt=convert.prompt_to(prompt))

    async def GetPrompt(
        self, request: pb.GetPromptRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetPromptResponse:
        prompt = await self._s.prompts.get_prompt(request.tenant_id, request.name)
        return pb.GetPromptResponse(prompt=convert.prompt_to(prompt))

    async def ListPrompts(
        self, request: pb.ListPromptsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPromptsResponse:
        prompts = await self._s.prompts.list_prompts(request.tenant_id)
        return pb.ListPromptsResponse(prompts=[convert.prompt_to(p) for p in prompts])

    async def DeletePrompt(
        self, request: pb.DeletePromptRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeletePromptResponse:
        return pb.DeletePromptResponse(
            id=await self._s.prompts.delete_prompt(request.tenant_id, request.name)
        )

    async def CreatePromptVersion(
        self, request: pb.CreatePromptVersionRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreatePromptVersionResponse:
        version = await self._s.prompts.create_version(
            request.tenant_id,
            request.prompt,
            convert.spec_from(request.spec),
            request.description,
            request.labels,
        )
        return pb.CreatePromptVersionResponse(version=convert.version_to(version))

    async def GetPromptVersion(
        self, request: pb.GetPromptVersionRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetPromptVersionResponse:
        version = await self._s.prompts.get_version(
            request.tenant_id, request.prompt, request.version, request.label
        )
        return pb.GetPromptVersionResponse(version=convert.version_to(version))

    async def ListPromptVersions(
        self, request: pb.ListPromptVersionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPromptVersionsResponse:
        versions = await self._s.prompts.list_versions(request.tenant_id, request.prompt)
        return pb.ListPromptVersionsResponse(versions=[convert.version_to(v) for v in versions])

    async def SetPromptLabel(
        self, request: pb.SetPromptLabelRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetPromptLabelResponse:
        prompt, previous = await self._s.prompts.set_label(
            request.tenant_id, request.prompt, request.label, request.version
        )
        return pb.SetPromptLabelResponse(prompt=convert.prompt_to(prompt), previous_version=previous)

    async def DeletePromptLabel(
        self, request: pb.DeletePromptLabelRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeletePromptLabelResponse:
        prompt = await self._s.prompts.delete_label(request.tenant_id, request.prompt, request.label)
        return pb.DeletePromptLabelResponse(prompt=convert.prompt_to(prompt))

    async def DiffPromptVersions(
        self, request: pb.DiffPromptVersionsRequest, context: grpc.aio.ServicerContext
    ) -> pb.DiffPromptVersionsResponse:
        diff, changed = await self._s.prompts.diff(
            request.tenant_id, request.prompt, request.from_version, request.to_version
        )
        return pb.DiffPromptVersionsResponse(diff=diff, changed_fields=changed)

    async def CreateExperiment(
        self, request: pb.CreateExperimentRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateExperimentResponse:
        experiment = await self._s.experiments.create(
            request.tenant_id,
            request.name,
            request.prompt,
            convert.arms_from(request.variants),
            request.label,
            request.description,
        )
        return pb.CreateExperimentResponse(experiment=convert.experiment_to(experiment))

    async def GetExperiment(
        self, request: pb.GetExperimentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetExperimentResponse:
        experiment = await self._s.experiments.get(request.tenant_id, request.id)
        return pb.GetExperimentResponse(experiment=convert.experiment_to(experiment))

    async def ListExperiments(
        self, request: pb.ListExperimentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListExperimentsResponse:
        experiments = await self._s.experiments.list(request.tenant_id, request.prompt, request.status)
        return pb.ListExperimentsResponse(experiments=[convert.experiment_to(e) for e in experiments])

    async def SetExperimentStatus(
        self, request: pb.SetExperimentStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetExperimentStatusResponse:
        experiment = await self._s.experiments.set_status(request.tenant_id, request.id, request.status)
        return pb.SetExperimentStatusResponse(experiment=convert.experiment_to(experiment))

    async def PromoteExperimentVariant(
        self, request: pb.PromoteExperimentVariantRequest, context: grpc.aio.ServicerContext
    ) -> pb.PromoteExperimentVariantResponse:
        experiment, prompt = await self._s.experiments.promote(request.tenant_id, request.id, request.variant)
        return pb.PromoteExperimentVariantResponse(
            experiment=convert.experiment_to(experiment), prompt=convert.prompt_to(prompt)
        )

    async def DeleteExperiment(
        self, request: pb.DeleteExperimentRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteExperimentResponse:
        await self._s.experiments.delete(request.tenant_id, request.id)
        return pb.DeleteExperimentResponse(id=request.id)

    async def CreateAssistant(
        self, request: pb.CreateAssistantRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateAssistantResponse:
        tenant = request.tenant_id
        assistant = await self._s.assistants.create(tenant, convert.assistant_from(request.assistant, tenant))
        return pb.CreateAssistantResponse(assistant=convert.assistant_to(assistant))

    async def GetAssistant(
        self, request: pb.GetAssistantRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAssistantResponse:
        assistant = await self._s.assistants.get(request.tenant_id, request.name)
        return pb.GetAssistantResponse(assistant=convert.assistant_to(assistant))

    async def ListAssistants(
        self, request: pb.ListAssistantsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAssistantsResponse:
        assistants = await self._s.assistants.list(request.tenant_id)
        return pb.ListAssistantsResponse(assistants=[convert.assistant_to(a) for a in assistants])

    async def UpdateAssistant(
        self, request: pb.UpdateAssistantRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateAssistantResponse:
        tenant = request.tenant_id
        assistant = await self._s.assistants.update(
            tenant, request.name, convert.assistant_from(request.assistant, tenant), request.update_mask
        )
        return pb.UpdateAssistantResponse(assistant=convert.assistant_to(assistant))

    async def DeleteAssistant(
        self, request: pb.DeleteAssistantRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteAssistantResponse:
        return pb.DeleteAssistantResponse(id=await self._s.assistants.delete(request.tenant_id, request.name))
