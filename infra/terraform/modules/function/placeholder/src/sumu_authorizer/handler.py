"""Placeholder until the authorizer pipeline's first release: deny every connection."""


def handler(event, context):
    return {
        "principalId": "placeholder",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Deny",
                    "Resource": event.get("methodArn", "*"),
                }
            ],
        },
    }
