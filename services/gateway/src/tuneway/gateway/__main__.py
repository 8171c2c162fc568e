"""`python -m tuneway.gateway`."""

from tuneway.gateway.main import main

if __name__ == "__main__":
    main()
