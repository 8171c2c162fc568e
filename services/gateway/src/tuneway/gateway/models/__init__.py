"""The models a tenant may call: the base model, its adapters and assistants."""
