"""The trainer's SQL, one module per aggregate; callers own the session and the transaction."""
