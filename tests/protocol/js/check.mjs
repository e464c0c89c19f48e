// Drives JS SDK v3 clients against the endpoints in OVERCAST_ENDPOINTS (service -> URL) and
// prints one JSON object: what each call returned or which error it raised.
import { createRequire } from "node:module";

const require = createRequire(process.env.OVERCAST_JS_MODULES + "/");
const endpoints = JSON.parse(process.env.OVERCAST_ENDPOINTS);
const common = (service) => ({
  endpoint: endpoints[service],
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
  maxAttempts: 1,
});

async function outcome(promise) {
  try {
    const value = await promise;
    delete value.$metadata;
    return { ok: value };
  } catch (err) {
    return { error: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
}

const s3 = require("@aws-sdk/client-s3");
const sqs = require("@aws-sdk/client-sqs");
const cw = require("@aws-sdk/client-cloudwatch");
const ddb = require("@aws-sdk/client-dynamodb");
const sts = require("@aws-sdk/client-sts");
const lambda = require("@aws-sdk/client-lambda");
const iam = require("@aws-sdk/client-iam");

const out = {};
const s3c = new s3.S3Client({ ...common("s3"), forcePathStyle: true });
out.s3Put = await outcome(
  s3c.send(new s3.PutObjectCommand({ Bucket: "bkt", Key: "a b/c€.txt", Body: "hello", Metadata: { color: "blue" } })),
);
const got = await s3c.send(new s3.GetObjectCommand({ Bucket: "bkt", Key: "a b/c€.txt" }));
out.s3Get = { body: await got.Body.transformToString(), metadata: got.Metadata, lastModified: got.LastModified.toISOString(), contentLength: got.ContentLength };
out.s3List = await outcome(s3c.send(new s3.ListObjectsV2Command({ Bucket: "bkt", Prefix: "a" })));
out.s3Head = await outcome(s3c.send(new s3.HeadObjectCommand({ Bucket: "bkt", Key: "missing" })));
out.s3Missing = await outcome(s3c.send(new s3.GetObjectCommand({ Bucket: "bkt", Key: "missing" })));
out.s3Location = await outcome(s3c.send(new s3.GetBucketLocationCommand({ Bucket: "bkt" })));

const sqsc = new sqs.SQSClient(common("sqs"));
out.sqsMissing = await outcome(sqsc.send(new sqs.GetQueueUrlCommand({ QueueName: "nope" })));
out.sqsSend = await outcome(
  sqsc.send(new sqs.SendMessageCommand({ QueueUrl: endpoints.sqs + "/000000000000/q", MessageBody: "hi" })),
);

const cwc = new cw.CloudWatchClient(common("cloudwatch"));
out.cwPut = await outcome(
  cwc.send(new cw.PutMetricDataCommand({ Namespace: "app", MetricData: [{ MetricName: "m", Value: 1.5, Timestamp: new Date("2024-01-02T03:04:05.678Z") }] })),
);
out.cwGet = await outcome(
  cwc.send(new cw.GetMetricDataCommand({ MetricDataQueries: [{ Id: "a", Expression: "1" }], StartTime: new Date(0), EndTime: new Date(1000) })),
);
out.cwMissing = await outcome(cwc.send(new cw.GetDashboardCommand({ DashboardName: "d" })));

const ddbc = new ddb.DynamoDBClient(common("dynamodb"));
out.ddbGet = await outcome(ddbc.send(new ddb.GetItemCommand({ TableName: "t", Key: { pk: { S: "a" } } })));
out.ddbMissing = await outcome(ddbc.send(new ddb.DescribeTableCommand({ TableName: "nope" })));

out.sts = await outcome(new sts.STSClient(common("sts")).send(new sts.GetCallerIdentityCommand({})));

const lam = new lambda.LambdaClient(common("lambda"));
const invoked = await lam.send(new lambda.InvokeCommand({ FunctionName: "f", Payload: new TextEncoder().encode('{"a":1}') }));
out.lambdaInvoke = { status: invoked.StatusCode, payload: new TextDecoder().decode(invoked.Payload), functionError: invoked.FunctionError };
out.lambdaMissing = await outcome(lam.send(new lambda.GetFunctionCommand({ FunctionName: "nope" })));

out.iamMissing = await outcome(new iam.IAMClient(common("iam")).send(new iam.GetRoleCommand({ RoleName: "r" })));

for (const value of Object.values(out)) {
  if (value.ok) {
    for (const [k, v] of Object.entries(value.ok)) {
      if (v instanceof Date) value.ok[k] = v.toISOString();
      if (v instanceof Uint8Array) value.ok[k] = Buffer.from(v).toString("base64");
    }
  }
}
console.log(JSON.stringify(out, (k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v)));
