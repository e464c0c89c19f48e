"""SSM Parameter Store (json protocol): parameters, versions, paths and tags, in the `ssm`
database. Imports core and store only; CloudFormation reads it through dispatch."""
