"""DynamoDB's pure core: attribute values, the expression language and PartiQL.

Flow: a request's AttributeValues are checked and normalised by `values`; expressions are parsed
by `parser` into small AST dataclasses (cached by text), checked against ExpressionAttributeNames
and Values by `validate`, and evaluated by `evaluate` (conditions, updates, projections) over items
held as DynamoDB-JSON dicts. `keys` turns key values into memcmp-sortable bytes for the store.
`legacy` rewrites the pre-expression parameters into the same AST; `partiql` parses statements.
Both parsers build on `descent` (the token cursor and the OR/AND/NOT layers they share).
No I/O, no clock: imports only `overcast.core`.
"""
