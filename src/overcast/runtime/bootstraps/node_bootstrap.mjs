// Overcast's Node.js bootstrap: the handler contract of AWS's nodejs runtimes (CommonJS and ES
// module handlers, async and callback styles) over the Lambda Runtime API. Imports nothing from
// Overcast; runs on the host's Node.js inside the execution environment.
import net from "node:net";
import path from "node:path";
import fs from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { format } from "node:util";

const [HOST, PORT] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const BASE = "/2018-06-01/runtime";
const TASK_ROOT = process.env.LAMBDA_TASK_ROOT || process.cwd();
let currentRequestId = "";

// A keep-alive HTTP/1.1 client for the Runtime API on a raw socket. Requests given together are
// written in one go (pipelining): an outcome and the next `/next` cost one wake-up, not two.
class RuntimeClient {
  constructor(host, port) {
    this.host = host;
    this.port = port;
    this.sock = null;
    this.buf = Buffer.alloc(0);
    this.waiters = [];
  }

  connect() {
    if (this.sock) return this.sock;
    const sock = net.createConnection({ host: this.host, port: this.port });
    sock.setNoDelay(true);
    sock.on("data", (chunk) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      this.pump();
    });
    const fail = (err) => {
      if (this.sock === sock) this.sock = null;
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w.reject(err || new Error("Runtime API closed the connection"));
    };
    sock.on("error", fail);
    sock.on("close", () => fail(null));
    this.sock = sock;
    this.buf = Buffer.alloc(0);
    return sock;
  }

  pump() {
    while (this.waiters.length) {
      const end = this.buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const lines = this.buf.subarray(0, end).toString("latin1").split("\r\n");
      const headers = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(":");
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const length = Number(headers["content-length"] || 0);
      if (this.buf.length < end + 4 + length) return;
      const body = this.buf.subarray(end + 4, end + 4 + length);
      this.buf = this.buf.subarray(end + 4 + length);
      this.waiters.shift().resolve({ status: Number(lines[0].split(" ")[1]), headers, body });
    }
  }

  // requests: [{ method, path, body?, headers? }] → one promise per response, in order.
  send(requests) {
    const sock = this.connect();
    const parts = [];
    const promises = [];
    for (const r of requests) {
      const data = r.body === undefined ? Buffer.alloc(0) : Buffer.from(r.body);
      let head = `${r.method} ${r.path} HTTP/1.1\r\nHost: runtime\r\nContent-Length: ${data.length}\r\n`;
      for (const [k, v] of Object.entries(r.headers || {})) head += `${k}: ${v}\r\n`;
      parts.push(Buffer.from(head + "\r\n", "latin1"), data);
      promises.push(new Promise((resolve, reject) => this.waiters.push({ resolve, reject })));
    }
    sock.write(parts.length === 2 && !parts[1].length ? parts[0] : Buffer.concat(parts));
    return promises;
  }
}

const client = new RuntimeClient(HOST, Number(PORT));

function request(method, urlPath, body, headers = {}) {
  return client.send([{ method, path: urlPath, body, headers }])[0];
}

// Post an outcome and ask for the next invocation in one write; resolves to the next one.
async function postThenNext(outcome) {
  const [posted, next] = client.send([outcome, { method: "GET", path: `${BASE}/invocation/next` }]);
  await posted;
  return next;
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

function errorRequest(urlPath, err) {
  const doc = errorDoc(err);
  const line = `${new Date().toISOString()}\t${currentRequestId || "undefined"}\tERROR\t${
    JSON.stringify({ errorType: doc.errorType, errorMessage: doc.errorMessage, stack: doc.trace })}`;
  process.stdout.write(line + "\n");
  return {
    method: "POST", path: urlPath, body: JSON.stringify(doc),
    headers: { "Content-Type": "application/json", "Lambda-Runtime-Function-Error-Type": doc.errorType },
  };
}

async function postError(urlPath, err) {
  const r = errorRequest(urlPath, err);
  await request(r.method, r.path, r.body, r.headers);
}

async function main() {
  let handler;
  try {
    handler = await loadHandler(process.env._HANDLER || "");
  } catch (err) {
    await postError(`${BASE}/init/error`, err);
    process.exit(1);
  }
  let next = await request("GET", `${BASE}/invocation/next`);
  for (;;) {
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
      next = await postThenNext(errorRequest(`${BASE}/invocation/${requestId}/error`, outcome.err));
    } else {
      const body = outcome.result === undefined ? "null" : JSON.stringify(outcome.result);
      next = await postThenNext({
        method: "POST", path: `${BASE}/invocation/${requestId}/response`, body,
        headers: { "Content-Type": "application/json" },
      });
    }
  }
}

process.on("uncaughtException", async (err) => {
  if (currentRequestId) await postError(`${BASE}/invocation/${currentRequestId}/error`, err);
  process.exit(129);
});

main();
