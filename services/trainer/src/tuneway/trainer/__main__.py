"""`python -m tuneway.trainer [api|worker]` (default: api)."""

from tuneway.trainer.main import main

if __name__ == "__main__":
    main()
