"""`python -m tuneway.analytics`."""

from tuneway.analytics.main import main

if __name__ == "__main__":
    main()
