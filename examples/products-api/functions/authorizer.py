"""A Lambda TOKEN authorizer: 'Bearer admin-token' may delete, 'Bearer user-token' is denied,
anything else is Unauthorized (401)."""


def handler(event, context):
    token = event.get("authorizationToken", "")
    if token == "Bearer admin-token":
        effect, principal = "Allow", "admin"
    elif token == "Bearer user-token":
        effect, principal = "Deny", "user"
    else:
        raise Exception("Unauthorized")
    api_arn = event["methodArn"].split("/")[0]
    return {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": api_arn + "/*"}
            ],
        },
        "context": {"role": principal},
    }
