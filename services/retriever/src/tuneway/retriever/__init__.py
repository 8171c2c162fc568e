"""tuneway's knowledge layer: knowledge bases, documents, chunks, embeddings and search."""
