"""`python -m tuneway.prompt_svc`."""

from tuneway.prompt_svc.main import main

if __name__ == "__main__":
    main()
