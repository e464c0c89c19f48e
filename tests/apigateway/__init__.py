"""API Gateway tests: engines (VTL, OpenAPI, routing, JWT), both data planes, control planes
through boto3 and the aws CLI, and the products-api example."""
