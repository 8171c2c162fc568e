"""The legacy completions API: POST /v1/completions, a raw prompt without a chat template."""
