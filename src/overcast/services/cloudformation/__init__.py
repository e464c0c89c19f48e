"""CloudFormation (query protocol).

A request → `provider` (validate; read the template from TemplateBody or S3 through dispatch;
transform SAM via `sam`; check parameters) → a stack row and its first event → the `executor`,
which asks the `engines.cfn` plan what to do and carries it out in the background through the
`resources` handlers — each acting only through `dispatcher.call(ctx, service, operation, ...)`.
Stacks, resources, events, change sets and exports live in the `cloudformation` database
(`records`).
"""
