"""gRPC clients of the services behind the gateway, raising domain errors instead of RpcErrors."""
