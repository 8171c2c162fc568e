"""Files (OpenAI's /v1/files): uploads streamed into the artifact store, their records and routes."""
