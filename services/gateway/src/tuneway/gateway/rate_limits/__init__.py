"""Per-minute request and token limits of API keys and tenants, enforced across gateway replicas."""
