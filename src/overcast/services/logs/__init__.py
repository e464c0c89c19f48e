"""CloudWatch Logs: log groups, streams and events in this service's database.

`provider.LogsProvider` implements the operations (json protocol). Events are rows ordered by
(timestamp, id); GetLogEvents tokens and FilterLogEvents tokens encode a position in that order.
Filter patterns are compiled by `engines.log_filter`. A sweeper applies retention policies by
deleting expired events. Lambda writes here only through `Dispatcher.call(ctx, "logs", ...)`.
"""
