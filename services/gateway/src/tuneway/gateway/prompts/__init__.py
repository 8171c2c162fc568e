"""Prompts, role templates, experiments and assistants (prompt service), and the render step of chat."""
