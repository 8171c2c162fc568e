"""tuneway's prompt layer: prompts, versions, labels, variants, experiments and assistants."""
