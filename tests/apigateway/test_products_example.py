"""examples/products-api as a new user runs it: functions created and the OpenAPI document
imported with the aws CLI, deployed, then called with curl — REST API with validation, API key
and Lambda authorizer; the same functions behind an HTTP API with a JWT authorizer."""

from __future__ import annotations

import http.server
import json
import shutil
import subprocess
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.apigateway.test_engines import _jwks, make_token

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "products-api"
ROLE = "arn:aws:iam::000000000000:role/products"
FUNCTIONS = [
    ("products-list", "products.handler"),
    ("products-get", "product.handler"),
    ("products-authorizer", "authorizer.handler"),
]

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")


def curl(
    method: str, url: str, *, body: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """Call the API with curl; (status, parsed JSON body)."""
    args = ["curl", "-s", "-X", method, "-w", "\n%{http_code}", url]
    for k, v in (headers or {}).items():
        args += ["-H", f"{k}: {v}"]
    if body is not None:
        args += ["-H", "content-type: application/json", "--data-binary", body]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout
    text, _, code = out.rpartition("\n")
    return int(code), json.loads(text) if text else None


@pytest.fixture(scope="module")
def functions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    zpath = tmp_path_factory.mktemp("products") / "functions.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for src in (EXAMPLE / "functions").glob("*.py"):
            zf.write(src, src.name)
    return zpath


def deploy_functions(aws: Callable[..., Any], client: Callable[..., Any], zpath: Path) -> None:
    lam = client("lambda")
    existing = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    for name, handler in FUNCTIONS:
        if name not in existing:
            aws(
                "lambda",
                "create-function",
                "--function-name",
                name,
                "--runtime",
                "python3.11",
                "--role",
                ROLE,
                "--handler",
                handler,
                "--zip-file",
                f"fileb://{zpath}",
            )
    deadline = time.monotonic() + 30
    for name, _ in FUNCTIONS:
        while lam.get_function(FunctionName=name)["Configuration"].get("State") != "Active":
            assert time.monotonic() < deadline, f"{name} never became Active"
            time.sleep(0.1)


def test_rest_api(
    aws: Callable[..., Any], client: Callable[..., Any], server: Any, functions: Path
) -> None:
    deploy_functions(aws, client, functions)
    api = json.loads(
        aws("apigateway", "import-rest-api", "--body", f"fileb://{EXAMPLE / 'openapi.yaml'}").stdout
    )
    assert api["name"] == "Products API"
    aws("apigateway", "create-deployment", "--rest-api-id", api["id"], "--stage-name", "prod")
    base = f"{server.url}/_aws/execute-api/{api['id']}/prod"

    status, body = curl("GET", f"{base}/products?category=kitchen&limit=1")
    assert status == 200
    assert body["count"] == 1 and body["products"][0]["category"] == "kitchen"
    assert body["sourceIp"] == "127.0.0.1" and body["requestId"]
    status, body = curl("GET", f"{base}/products/p3")
    assert status == 200
    assert body == {
        "product": {"id": "p3", "name": "Trail shoes", "price": 120.0, "category": "sport"},
        "resource": "/products/{productId}",
    }

    new = json.dumps({"name": "Kettle", "price": 30, "category": "kitchen"})
    status, body = curl("POST", f"{base}/products", body=new)
    assert (status, body) == (403, {"message": "Forbidden"})
    key = json.loads(aws("apigateway", "create-api-key", "--name", "shop", "--enabled").stdout)
    plan = json.loads(
        aws(
            "apigateway",
            "create-usage-plan",
            "--name",
            "basic",
            "--api-stages",
            f"apiId={api['id']},stage=prod",
        ).stdout
    )
    aws(
        "apigateway",
        "create-usage-plan-key",
        "--usage-plan-id",
        plan["id"],
        "--key-id",
        key["id"],
        "--key-type",
        "API_KEY",
    )
    with_key = {"x-api-key": key["value"]}
    status, body = curl("POST", f"{base}/products", body='{"name": "Kettle"}', headers=with_key)
    assert status == 400
    assert body["error"] == "Invalid request body" and "price" in body["detail"]
    status, body = curl("POST", f"{base}/products", body=new, headers=with_key)
    assert status == 201 and body["product"]["name"] == "Kettle"

    status, body = curl("DELETE", f"{base}/products/p1")
    assert (status, body) == (401, {"message": "Unauthorized"})
    status, body = curl(
        "DELETE", f"{base}/products/p1", headers={"Authorization": "Bearer user-token"}
    )
    assert status == 403
    status, body = curl(
        "DELETE", f"{base}/products/p1", headers={"Authorization": "Bearer admin-token"}
    )
    assert (status, body) == (200, {"deleted": "p1", "by": "admin"})

    exported = aws(
        "apigateway",
        "get-export",
        "--rest-api-id",
        api["id"],
        "--stage-name",
        "prod",
        "--export-type",
        "oas30",
        str(Path(server.data_dir).parent / "export.json"),
    ).returncode
    assert exported == 0


class _Issuer(http.server.BaseHTTPRequestHandler):
    base = ""

    def do_GET(self) -> None:
        docs = {
            "/.well-known/openid-configuration": {
                "issuer": self.base,
                "jwks_uri": self.base + "/jwks",
            },
            "/jwks": _jwks(),
        }
        data = json.dumps(docs.get(self.path, {})).encode()
        self.send_response(200 if self.path in docs else 404)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Issuer)
    _Issuer.base = f"http://127.0.0.1:{srv.server_address[1]}"
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield _Issuer.base
    srv.shutdown()


def test_http_api_with_jwt(
    aws: Callable[..., Any],
    client: Callable[..., Any],
    server: Any,
    functions: Path,
    issuer: str,
    tmp_path: Path,
) -> None:
    deploy_functions(aws, client, functions)
    spec = tmp_path / "http-api.yaml"
    spec.write_text((EXAMPLE / "http-api.yaml").read_text().replace("ISSUER_URL", issuer))
    api = json.loads(aws("apigatewayv2", "import-api", "--body", f"file://{spec}").stdout)
    aws(
        "apigatewayv2",
        "create-stage",
        "--api-id",
        api["ApiId"],
        "--stage-name",
        "$default",
        "--auto-deploy",
    )
    base = f"{server.url}/_aws/execute-api/{api['ApiId']}"

    status, body = curl("GET", f"{base}/products")
    assert (status, body) == (401, {"message": "Unauthorized"})
    token = make_token(
        {"iss": issuer, "aud": "products-app", "sub": "shopper-7", "exp": time.time() + 300}
    )
    auth = {"Authorization": f"Bearer {token}"}
    status, body = curl("GET", f"{base}/products?category=sport", headers=auth)
    assert status == 200
    assert body["user"] == "shopper-7" and {p["id"] for p in body["products"]} == {"p3", "p4"}
    status, body = curl("GET", f"{base}/products/p4", headers=auth)
    assert status == 200 and body["product"]["name"] == "Yoga mat"
    wrong = make_token({"iss": issuer, "aud": "someone-else", "exp": time.time() + 300})
    status, _ = curl("GET", f"{base}/products", headers={"Authorization": f"Bearer {wrong}"})
    assert status == 401
