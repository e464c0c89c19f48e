"""Where a data-plane request is addressed: the API id and the rest of the path.

Two forms reach the same stage: `Host: {api-id}.execute-api.localhost[:port]` (or the AWS host
`{api-id}.execute-api.{region}.amazonaws.com`) with the path `/{stage}/{path}`, and the path
`/_aws/execute-api/{api-id}/{stage}/{path}` on any host.
"""

from __future__ import annotations

PATH_PREFIX = "/_aws/execute-api/"
_HOST_MARK = ".execute-api."


def split_address(host: str, path: str) -> tuple[str, str] | None:
    """(api id, raw path after the id — starting with '/'), or None when not a data-plane URL."""
    if path.startswith(PATH_PREFIX):
        rest = path[len(PATH_PREFIX) :]
        api_id, slash, tail = rest.partition("/")
        if not api_id:
            return None
        return api_id, "/" + tail if slash else "/"
    i = host.find(_HOST_MARK)
    if i > 0:
        return host[:i].lower(), path or "/"
    return None


def first_segment(path: str) -> tuple[str, str]:
    """'/prod/a/b' → ('prod', '/a/b'); '/prod' → ('prod', '/')."""
    trimmed = path[1:] if path.startswith("/") else path
    head, slash, tail = trimmed.partition("/")
    return head, "/" + tail if slash else "/"


def invoke_url(endpoint: str, api_id: str, stage: str) -> str:
    """The stage URL that works on 127.0.0.1 (path form), from the edge's base URL."""
    base = f"{endpoint.rstrip('/')}{PATH_PREFIX}{api_id}"
    return base if stage == "$default" else f"{base}/{stage}"


def host_url(endpoint: str, api_id: str) -> str:
    """The AWS-shaped host-form endpoint: http://{api-id}.execute-api.localhost:{port}."""
    scheme, _, hostport = endpoint.partition("://")
    port = hostport.rsplit(":", 1)[1] if ":" in hostport else ""
    return f"{scheme}://{api_id}.execute-api.localhost" + (f":{port}" if port else "")
