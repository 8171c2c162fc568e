"""/v1/batches: OpenAI's Batch API, run by batch workers over the BATCHES stream."""
