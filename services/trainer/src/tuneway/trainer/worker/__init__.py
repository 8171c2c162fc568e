"""The trainer's worker process: takes jobs off the work queue, trains them, registers their adapters."""
