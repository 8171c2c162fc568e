"""tuneway inference service: vLLM AsyncLLM with hot-registered LoRA adapters, over gRPC."""
