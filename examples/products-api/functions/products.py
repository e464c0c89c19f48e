"""GET /products (filter by category, limit) and POST /products (create) — a Lambda proxy
handler for API Gateway, payload format 1.0 (REST) or 2.0 (HTTP API)."""

import json
import uuid

CATALOGUE = [
    {"id": "p1", "name": "Espresso cup", "price": 7.5, "category": "kitchen"},
    {"id": "p2", "name": "Chef's knife", "price": 49.0, "category": "kitchen"},
    {"id": "p3", "name": "Trail shoes", "price": 120.0, "category": "sport"},
    {"id": "p4", "name": "Yoga mat", "price": 25.0, "category": "sport"},
]


def _method(event):
    return event.get("httpMethod") or event["requestContext"]["http"]["method"]


def _answer(status, body):
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


def handler(event, context):
    if _method(event) == "POST":
        product = json.loads(event.get("body") or "{}")
        product["id"] = "p-" + uuid.uuid4().hex[:8]
        return _answer(201, {"product": product})
    query = event.get("queryStringParameters") or {}
    items = [
        p for p in CATALOGUE if not query.get("category") or p["category"] == query["category"]
    ]
    limit = int(query.get("limit") or 10)
    auth = event["requestContext"].get("authorizer") or {}
    return _answer(
        200,
        {
            "products": items[:limit],
            "count": len(items[:limit]),
            "requestId": event["requestContext"]["requestId"],
            "sourceIp": (event["requestContext"].get("identity") or {}).get("sourceIp")
            or event["requestContext"].get("http", {}).get("sourceIp"),
            "user": ((auth.get("jwt") or {}).get("claims") or {}).get("sub"),
        },
    )
