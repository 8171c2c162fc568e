"""Prompts, experiments and assistants as their GET routes show them: what those routes answer, and what a
change's audit entry records as the resource before it."""

from __future__ import annotations

from tuneway.api.prompt.v1 import prompt_pb2 as pb
from tuneway.gateway.clients.prompt import PromptClient
from tuneway.gateway.prompts import responses as obj


async def read_prompt(prompts: PromptClient, tenant_id: str, name: str) -> obj.Prompt:
    """GET /v1/prompts/{name}."""
    request = pb.GetPromptRequest(tenant_id=tenant_id, name=name)
    return obj.prompt((await prompts.call(prompts.stub.GetPrompt, request)).prompt)


async def read_experiment(prompts: PromptClient, tenant_id: str, experiment_id: str) -> obj.Experiment:
    """GET /v1/experiments/{id}."""
    request = pb.GetExperimentRequest(tenant_id=tenant_id, id=experiment_id)
    return obj.experiment((await prompts.call(prompts.stub.GetExperiment, request)).experiment)


async def read_assistant(prompts: PromptClient, tenant_id: str, name: str) -> obj.Assistant:
    """GET /v1/assistants/{name}."""
    request = pb.GetAssistantRequest(tenant_id=tenant_id, name=name)
    return obj.assistant((await prompts.call(prompts.stub.GetAssistant, request)).assistant)
