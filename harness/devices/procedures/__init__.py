"""Multi-step procedures over drivers (firmware rollout, switch provisioning, Edge update, trunk
test calls): each returns a report that the scenario judges; none asserts."""
