"""`python -m tuneway.inference` (the guard matters: vLLM spawns processes that re-import main)."""

from tuneway.inference.main import main

if __name__ == "__main__":
    main()
