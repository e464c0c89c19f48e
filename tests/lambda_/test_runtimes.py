"""Node.js handlers, provided runtimes with their own bootstrap (awslambdaric, unchanged), and
functions running as unprivileged users."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.lambda_.helpers import create, make_zip

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

ESM = """
import fs from "node:fs";
let count = 0;
export const handler = async (event, context) => {
  count += 1;
  console.log("got", JSON.stringify(event));
  if (event.fail) throw new TypeError("bad input");
  let readable = null;
  if (event.read) {
    try { fs.readdirSync(event.read); readable = true; } catch (e) { readable = false; }
  }
  return { pid: process.pid, count, name: context.functionName, rid: context.awsRequestId,
           remaining: context.getRemainingTimeInMillis(), env: process.env.AWS_LAMBDA_FUNCTION_NAME,
           uid: process.getuid(), readable, taskRoot: process.env.LAMBDA_TASK_ROOT };
};
"""

CJS = """
exports.handler = function (event, context, callback) {
  setTimeout(() => callback(null, { style: "callback", version: context.functionVersion }), 1);
};
"""


def invoke(lam: Any, name: str, event: Any = None) -> tuple[dict[str, Any], Any]:
    resp = lam.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode())
    return resp, json.loads(resp["Payload"].read())


def test_node_esm_async_handler(client: Any) -> None:
    lam = client("lambda")
    name = create(lam, {"index.mjs": ESM}, runtime="nodejs20.x", handler="index.handler")
    resp, out = invoke(lam, name, {"a": 1})
    assert out["name"] == name and out["env"] == name
    assert out["rid"] == resp["ResponseMetadata"]["RequestId"]
    assert 0 < out["remaining"] <= 3000
    _, again = invoke(lam, name)
    assert again["pid"] == out["pid"] and again["count"] == 2
    resp, err = invoke(lam, name, {"fail": True})
    assert resp["FunctionError"] == "Unhandled"
    assert err["errorType"] == "TypeError" and err["errorMessage"] == "bad input"
    assert isinstance(err["trace"], list)
    _, after = invoke(lam, name)  # the same environment serves on after a function error
    assert after["pid"] == out["pid"] and after["count"] == 4


def test_node_commonjs_callback_handler(client: Any) -> None:
    lam = client("lambda")
    name = create(lam, {"index.js": CJS}, runtime="nodejs22.x", handler="index.handler")
    assert invoke(lam, name)[1] == {"style": "callback", "version": "$LATEST"}


def test_node_handler_not_found(client: Any) -> None:
    lam = client("lambda")
    name = create(lam, {"index.js": CJS}, runtime="nodejs18.x", handler="index.missing")
    resp, out = invoke(lam, name)
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Runtime.HandlerNotFound"


def _awslambdaric_layer() -> bytes:
    import awslambdaric

    site = Path(awslambdaric.__file__).parent.parent
    files: dict[str, str | bytes] = {}
    modes: dict[str, int] = {}
    wanted = ("awslambdaric", "runtime_client", "simplejson", "snapshot_restore_py")
    for entry in site.iterdir():
        if not entry.name.startswith(wanted) or entry.name.endswith(".dist-info"):
            continue
        paths = [entry] if entry.is_file() else [p for p in entry.rglob("*") if p.is_file()]
        for p in paths:
            if "__pycache__" in p.parts:
                continue
            rel = "python/" + str(p.relative_to(site))
            files[rel] = p.read_bytes()
            modes[rel] = 0o755 if p.suffix == ".so" else 0o644
    return make_zip(files, modes)


@pytest.mark.skipif(not os.path.exists("/usr/bin/python3"), reason="needs a system python3")
def test_awslambdaric_as_the_functions_own_bootstrap(client: Any) -> None:
    lam = client("lambda")
    layer = lam.publish_layer_version(
        LayerName="awslambdaric", Content={"ZipFile": _awslambdaric_layer()}
    )
    bootstrap = (
        "#!/bin/sh\n"
        'export PYTHONPATH="$OVERCAST_OPT_DIR/python:$LAMBDA_TASK_ROOT"\n'
        'exec /usr/bin/python3 -m awslambdaric "$_HANDLER"\n'
    )
    app = (
        "import os\n"
        "def handler(event, context):\n"
        "    print('from awslambdaric')\n"
        "    if event.get('fail'):\n"
        "        raise KeyError('nope')\n"
        "    return {'echo': event, 'rid': context.aws_request_id,\n"
        "            'fn': context.function_name, 'left': context.get_remaining_time_in_millis()}\n"
    )
    name = create(
        lam,
        {"bootstrap": bootstrap, "app.py": app},
        modes={"bootstrap": 0o755},
        runtime="provided.al2023",
        handler="app.handler",
        Layers=[layer["LayerVersionArn"]],
        Timeout=10,
    )
    resp, out = invoke(lam, name, {"k": "v"})
    assert "FunctionError" not in resp, out
    assert out["echo"] == {"k": "v"} and out["fn"] == name
    assert out["rid"] == resp["ResponseMetadata"]["RequestId"]
    assert out["left"] > 0
    resp, err = invoke(lam, name, {"fail": True})
    assert resp["FunctionError"] == "Unhandled"
    assert err["errorType"] == "KeyError"
    resp, out = invoke(lam, name, {"k": 2})  # and serves on after the error
    assert "FunctionError" not in resp and out["echo"] == {"k": 2}


def test_provided_without_bootstrap(client: Any) -> None:
    lam = client("lambda")
    name = create(lam, {"app.py": "x = 1\n"}, runtime="provided.al2", handler="x")
    resp, out = invoke(lam, name)
    assert resp["FunctionError"] == "Unhandled"
    assert out["errorType"] == "Runtime.InvalidEntrypoint"


@pytest.mark.skipif(os.geteuid() != 0, reason="functions switch user only when Overcast is root")
def test_unprivileged_user_cannot_read_data_dir_or_other_code(client: Any, server: Any) -> None:
    lam = client("lambda")
    first = create(lam, {"index.mjs": ESM}, runtime="nodejs20.x", handler="index.handler")
    second = create(lam, {"index.mjs": ESM}, runtime="nodejs20.x", handler="index.handler")
    _, out = invoke(lam, first, {"read": str(server.data_dir)})
    assert out["uid"] != 0
    assert out["readable"] is False
    # Each reads its own code, but not the other's.
    _, other = invoke(lam, second, {"read": "."})
    assert other["readable"] is True
    _, cross = invoke(lam, first, {"read": other["taskRoot"]})
    assert cross["readable"] is False


@pytest.mark.skipif(os.geteuid() != 0, reason="functions switch user only when Overcast is root")
def test_python_functions_run_unprivileged_with_boto3(client: Any, server: Any) -> None:
    lam = client("lambda")
    code = (
        "import os, boto3\n"
        "def handler(event, context):\n"
        "    try:\n"
        "        os.listdir(event['path'])\n"
        "        readable = True\n"
        "    except OSError:\n"
        "        readable = False\n"
        "    sts = boto3.client('sts')\n"
        "    return {'uid': os.getuid(), 'readable': readable,\n"
        "            'account': sts.get_caller_identity()['Account']}\n"
    )
    name = create(lam, {"app.py": code})
    _, out = invoke(lam, name, {"path": str(server.data_dir)})
    assert out["uid"] != 0
    assert out["readable"] is False
    assert out["account"] == "000000000000"  # the function's own boto3 reaches Overcast
