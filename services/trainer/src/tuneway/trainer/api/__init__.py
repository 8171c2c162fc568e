"""The trainer's API process: the gRPC servicer, the services it calls, and the schedule firing loop."""
