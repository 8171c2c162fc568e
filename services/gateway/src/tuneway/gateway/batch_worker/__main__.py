"""`python -m tuneway.gateway.batch_worker`."""

from tuneway.gateway.batch_worker.main import main

if __name__ == "__main__":
    main()
