"""Knowledge bases, their documents and search, embeddings, and the retrieval step of chat (retriever)."""
