"""Events stage: records from Kafka or NDJSON decoded into validated mirror events."""
