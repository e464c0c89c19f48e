"""GET /products/{productId} and DELETE /products/{productId} — a Lambda proxy handler."""

import json

from products import CATALOGUE  # the other module in the same zip


def handler(event, context):
    product_id = (event.get("pathParameters") or {}).get("productId")
    found = next((p for p in CATALOGUE if p["id"] == product_id), None)
    method = event.get("httpMethod") or event["requestContext"]["http"]["method"]
    if found is None:
        return {
            "statusCode": 404,
            "headers": {"content-type": "application/json"},
            "body": json.dumps({"message": f"no product {product_id}"}),
        }
    if method == "DELETE":
        principal = (event["requestContext"].get("authorizer") or {}).get("principalId")
        return {
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "body": json.dumps({"deleted": product_id, "by": principal}),
        }
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"product": found, "resource": event.get("resource")}),
    }
