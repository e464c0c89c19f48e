"""IAM (query protocol): roles, inline and attached policies, customer managed policies with
versions — stored in the `iam` database, enforced later. Imports core and store only."""
