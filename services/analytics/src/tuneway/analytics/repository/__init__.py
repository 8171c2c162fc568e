"""SQL of the analytics store: one module per table family; every query filters by tenant."""
