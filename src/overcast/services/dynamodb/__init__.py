"""DynamoDB and DynamoDB Streams on the durable store.

Two providers share one database ("dynamodb"): `provider.DynamodbProvider` (service "dynamodb")
and `streams.DynamodbStreamsProvider` (service "dynamodbstreams"). Requests flow provider mixin →
engines.ddb (validation, expressions) → storage (items, index entries and stream records written
in one transaction). Table metadata is cached in memory; the `tables` rows are the truth.
"""
