"""`python -m tuneway.retriever`."""

from tuneway.retriever.main import main

if __name__ == "__main__":
    main()
