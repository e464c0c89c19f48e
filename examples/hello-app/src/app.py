"""POST /hello: store the request body as an item and answer with its id."""

import json
import os
import uuid

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
GREETING = "hello"


def handler(event, context):
    body = json.loads(event.get("body") or "{}")
    item = {"id": body.get("id") or str(uuid.uuid4()), "greeting": GREETING, **body}
    TABLE.put_item(Item=item)
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"id": item["id"], "greeting": GREETING}),
    }
