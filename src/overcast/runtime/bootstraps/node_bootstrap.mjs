// Overcast's Node.js bootstrap: the handler contract of AWS's nodejs runtimes (CommonJS and ES
// module handlers, async and callback styles) over the Lambda Runtime API. Imports nothing from
// Overcast; runs on the host's Node.js inside the execution environment.
import http from "node:http";
import path from "node:path";
import fs from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { format } from "node:util";

const [HOST, PORT] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const BASE = "/2018-06-01/runtime";
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const TASK_ROOT = process.env.LAMBDA_TASK_ROOT || process.cwd();
let currentRequestId = "";

function request(method, urlPath, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const req = http.request(
      {
        host: HOST, port: Number(PORT), method, path: urlPath, agent,
        headers: data ? { ...headers, "Content-Length": data.length } : headers,
      },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers,
                                      body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (data) req.write(data);
    req.end();
  });
}

// console.* as AWS formats it: timestamp, request id, level, message.
for (const [name, level] of [["log", "INFO"], ["info", "INFO"], ["warn", "WARN"],
                              ["error", "ERROR"], ["debug", "DEBUG"], ["trace", "TRACE"]]) {
  console[name] = (...args) => {
    const line = `${new Date().toISOString()}\t${currentRequestId || "undefined"}\t${level}\t${format(...args)}`;
    process.stdout.write(line.replace(/\n/g, "\r") + "\n");
  };
}

function errorDoc(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || "Error",
      errorMessage: err.message,
      trace: String(err.stack || "").split("\n"),
    };
  }
  return { errorType: typeof err === "string" ? "string" : typeof err,
           errorMessage: typeof err === "string" ? err : JSON.stringify(err), trace: [] };
}

class Fault extends Error {
  constructor(type, message) { super(message); this.name = type; }
}

async function loadHandler(spec) {
  const dot = spec.lastIndexOf(".");
  if (dot < 0) throw new Fault("Runtime.MalformedHandlerName", `Bad handler ${spec}`);
  const modPath = spec.slice(0, dot);
  const fnPath = spec.slice(dot + 1);
  const base = path.resolve(TASK_ROOT, modPath);
  let mod;
  let found = null;
  for (const ext of [".js", ".mjs", ".cjs", ""]) {
    if (fs.existsSync(base + ext) && fs.statSync(base + ext).isFile()) { found = base + ext; break; }
  }
  try {
    if (found === null) {
      // A package in node_modules, as AWS also allows.
      const req = createRequire(path.join(TASK_ROOT, "index.js"));
      mod = req(modPath);
    } else if (found.endsWith(".mjs") || (found.endsWith(".js") && isModuleScope(found))) {
      mod = await import(pathToFileURL(found).href);
    } else {
      try {
        mod = createRequire(found)(found);
      } catch (err) {
        if (err && err.code === "ERR_REQUIRE_ESM") mod = await import(pathToFileURL(found).href);
        else throw err;
      }
    }
  } catch (err) {
    if (err && (err.code === "MODULE_NOT_FOUND" || err.code === "ERR_MODULE_NOT_FOUND")) {
      throw new Fault("Runtime.ImportModuleError", `Error: Cannot find module '${modPath}'`);
    }
    if (err instanceof SyntaxError) {
      throw new Fault("Runtime.UserCodeSyntaxError", `${err.name}: ${err.message}`);
    }
    throw err;
  }
  let fn = mod;
  for (const part of fnPath.split(".")) fn = fn == null ? undefined : fn[part];
  if (fn === undefined && mod && mod.default) {
    fn = mod.default;
    for (const part of fnPath.split(".")) fn = fn == null ? undefined : fn[part];
  }
  if (typeof fn !== "function") {
    throw new Fault("Runtime.HandlerNotFound", `${path.basename(modPath)}.${fnPath} is undefined or not exported`);
  }
  return fn;
}

function isModuleScope(file) {
  let dir = path.dirname(file);
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      try { return JSON.parse(fs.readFileSync(pkg, "utf8")).type === "module"; }
      catch { return false; }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return false;
    dir = parent;
  }
}

function makeContext(headers, requestId, done) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] || 0);
  const cc = headers["lambda-runtime-client-context"];
  const ident = headers["lambda-runtime-cognito-identity"];
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    identity: ident ? JSON.parse(ident) : undefined,
    clientContext: cc ? JSON.parse(cc) : undefined,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    succeed: (r) => done(null, r),
    fail: (e) => done(e || new Error("handled")),
    done: (e, r) => done(e, r),
  };
}

async function postError(urlPath, err) {
  const doc = errorDoc(err);
  const line = `${new Date().toISOString()}\t${currentRequestId || "undefined"}\tERROR\t${
    JSON.stringify({ errorType: doc.errorType, errorMessage: doc.errorMessage, stack: doc.trace })}`;
  process.stdout.write(line + "\n");
  await request("POST", urlPath, JSON.stringify(doc), {
    "Content-Type": "application/json",
    "Lambda-Runtime-Function-Error-Type": doc.errorType,
  });
}

async function main() {
  let handler;
  try {
    handler = await loadHandler(process.env._HANDLER || "");
  } catch (err) {
    await postError(`${BASE}/init/error`, err);
    process.exit(1);
  }
  for (;;) {
    const next = await request("GET", `${BASE}/invocation/next`);
    const requestId = next.headers["lambda-runtime-aws-request-id"];
    currentRequestId = requestId;
    if (next.headers["lambda-runtime-trace-id"]) {
      process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"];
    }
    let settled = false;
    const outcome = await new Promise((resolve) => {
      const done = (err, result) => {
        if (settled) return;
        settled = true;
        resolve(err !== null && err !== undefined ? { err } : { result });
      };
      const context = makeContext(next.headers, requestId, done);
      let event;
      try {
        event = next.body.length ? JSON.parse(next.body.toString("utf8")) : {};
      } catch (err) { done(err); return; }
      try {
        const ret = handler.length >= 3 ? handler(event, context, done) : handler(event, context);
        if (ret && typeof ret.then === "function") ret.then((r) => done(null, r), (e) => done(e));
        else if (handler.length < 3) done(null, ret);
      } catch (err) { done(err); }
    });
    if ("err" in outcome) {
      await postError(`${BASE}/invocation/${requestId}/error`, outcome.err);
    } else {
      const body = outcome.result === undefined ? "null" : JSON.stringify(outcome.result);
      await request("POST", `${BASE}/invocation/${requestId}/response`, body,
                    { "Content-Type": "application/json" });
    }
  }
}

process.on("uncaughtException", async (err) => {
  if (currentRequestId) await postError(`${BASE}/invocation/${currentRequestId}/error`, err);
  process.exit(129);
});

main();
