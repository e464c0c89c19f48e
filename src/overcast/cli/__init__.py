"""The `overcast` command line: `up`, `status`, and the user commands (`invoke`, `logs`, `deploy`,
`destroy`) that speak to a running Overcast through its public API."""
