"""Chat completions: the request, the pipeline that serves it, and the OpenAI response or stream."""
