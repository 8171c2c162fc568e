"""`python -m tuneway.gateway.batch_worker`: runs /v1/batches' batches pulled from the BATCHES stream."""
