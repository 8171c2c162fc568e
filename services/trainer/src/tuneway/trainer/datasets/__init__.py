"""Dataset library of the trainer: reads, cleans, validates, tokenizes and splits training files."""

from tuneway.trainer.datasets.chat_tokens import ChatTemplateError
from tuneway.trainer.datasets.prepare import PreparedDataset, PrepareOptions, prepare_dataset
from tuneway.trainer.datasets.report import Issue, TokenStats, ValidationReport

__all__ = [
    "ChatTemplateError",
    "Issue",
    "PrepareOptions",
    "PreparedDataset",
    "TokenStats",
    "ValidationReport",
    "prepare_dataset",
]
