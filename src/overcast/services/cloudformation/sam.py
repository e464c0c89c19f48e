"""The AWS::Serverless-2016-10-31 transform, through aws-sam-translator, offline.

The translator asks AWS for the managed-policy list only when no map is given; ours is a fixed
map of the AWS managed policies SAM templates name (by name → ARN), so no call leaves Overcast.
"""

from __future__ import annotations

import copy
import logging
from functools import lru_cache
from typing import Any

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"

# The translator records usage metrics for AWS's own service and warns when nobody publishes them.
logging.getLogger("samtranslator.metrics.metrics").setLevel(logging.ERROR)

_MANAGED_POLICIES = [
    "AdministratorAccess",
    "PowerUserAccess",
    "ReadOnlyAccess",
    "AmazonDynamoDBFullAccess",
    "AmazonDynamoDBReadOnlyAccess",
    "AmazonS3FullAccess",
    "AmazonS3ReadOnlyAccess",
    "AmazonSQSFullAccess",
    "AmazonSQSReadOnlyAccess",
    "AmazonSNSFullAccess",
    "AmazonSNSReadOnlyAccess",
    "AmazonKinesisFullAccess",
    "AmazonKinesisReadOnlyAccess",
    "AmazonEventBridgeFullAccess",
    "AmazonAPIGatewayInvokeFullAccess",
    "AmazonAPIGatewayAdministrator",
    "AmazonCognitoPowerUser",
    "AmazonSSMReadOnlyAccess",
    "AmazonSSMFullAccess",
    "AWSLambda_FullAccess",
    "AWSLambda_ReadOnlyAccess",
    "AWSLambdaExecute",
    "AWSStepFunctionsFullAccess",
    "AWSStepFunctionsReadOnlyAccess",
    "AWSXrayWriteOnlyAccess",
    "AWSXRayDaemonWriteAccess",
    "CloudWatchFullAccess",
    "CloudWatchLogsFullAccess",
    "CloudWatchLogsReadOnlyAccess",
    "CloudWatchLambdaInsightsExecutionRolePolicy",
    "SecretsManagerReadWrite",
    "IAMFullAccess",
    "IAMReadOnlyAccess",
]
_SERVICE_ROLE_POLICIES = [
    "AWSLambdaBasicExecutionRole",
    "AWSLambdaVPCAccessExecutionRole",
    "AWSLambdaDynamoDBExecutionRole",
    "AWSLambdaKinesisExecutionRole",
    "AWSLambdaSQSQueueExecutionRole",
    "AWSLambdaRole",
    "AWSLambdaENIManagementAccess",
    "AmazonAPIGatewayPushToCloudWatchLogs",
    "AWSIoTRuleActions",
]


def managed_policy_map(partition: str = "aws") -> dict[str, str]:
    """AWS managed policy name → ARN, for the translator's `Policies: [Name]` lists."""
    out = {n: f"arn:{partition}:iam::aws:policy/{n}" for n in _MANAGED_POLICIES}
    out.update(
        {n: f"arn:{partition}:iam::aws:policy/service-role/{n}" for n in _SERVICE_ROLE_POLICIES}
    )
    return out


@lru_cache(maxsize=8)
def _session(region: str) -> Any:
    import boto3

    # A session only tells the translator its region; it makes no calls.
    return boto3.session.Session(
        region_name=region, aws_access_key_id="overcast", aws_secret_access_key="overcast"
    )


def translate(
    template: dict[str, Any], parameters: dict[str, str], region: str, account_id: str
) -> dict[str, Any]:
    """The SAM template as plain CloudFormation; ValueError with the translator's message when
    the template is not a valid SAM document."""
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    partition = "aws-cn" if region.startswith("cn-") else "aws"
    translator = Translator(managed_policy_map(partition), Parser(), boto_session=_session(region))
    values: dict[str, Any] = dict(parameters)
    values.setdefault("AWS::AccountId", account_id)
    values.setdefault("AWS::Region", region)
    try:
        return translator.translate(
            copy.deepcopy(template),
            values,
            get_managed_policy_map=lambda: managed_policy_map(partition),
        )
    except InvalidDocumentException as exc:
        causes = " ".join(str(c.message) for c in exc.causes)
        raise ValueError(
            f"Invalid Serverless Application Specification document. Number of "
            f"errors found: {len(exc.causes)}. {causes}"
        ) from None
