"""What the operation mixins of both APIs share: the state and the clock, lookups of an API's
document that raise AWS's NotFoundException, atomic edits, ids, and list paging."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from overcast.core import ids
from overcast.core.clock import Clock
from overcast.core.context import RequestContext
from overcast.services.apigateway.documents import ApiDocuments
from overcast.services.apigateway.errors import NotFoundException


def public(record: dict[str, Any]) -> dict[str, Any]:
    """A stored record without Overcast's private members (deep-copied for the caller)."""
    return {k: copy.deepcopy(v) for k, v in record.items() if k != "snapshot"}


def paginate(
    items: list[dict[str, Any]], start: Any, limit: Any, items_key: str, next_key: str
) -> dict[str, Any]:
    """One page of `items` from position `start` (default 0), at most `limit` (default 500)."""
    first = int(start or 0)
    size = int(limit or 500)
    out: dict[str, Any] = {items_key: items[first : first + size]}
    if first + size < len(items):
        out[next_key] = str(first + size)
    return out


class ApiBase:
    """State access and lookups for the operation mixins of one API (REST or HTTP)."""

    ID_LENGTH: ClassVar[int] = 10
    state: ApiDocuments
    clock: Clock

    def now(self) -> float:
        """The clock's time (epoch seconds)."""
        return self.clock.now()

    @classmethod
    def new_id(cls, length: int | None = None) -> str:
        """A fresh resource id, ID_LENGTH characters unless told otherwise."""
        return ids.short_id(length if length is not None else cls.ID_LENGTH)

    def load(self, ctx: RequestContext, api_id: str) -> dict[str, Any]:
        """The API's document, or NotFoundException."""
        doc = self.state.get_api(ctx.account_id, ctx.region, api_id or "")
        if doc is None:
            raise NotFoundException(f"Invalid API identifier specified {ctx.account_id}:{api_id}")
        return doc

    @contextmanager
    def edit(self, ctx: RequestContext, api_id: str) -> Iterator[dict[str, Any]]:
        """Change one API's document atomically (then `after_edit` runs on it)."""
        with self.state.editing(ctx.account_id, ctx.region, api_id or "") as doc:
            if doc is None:
                raise NotFoundException(
                    f"Invalid API identifier specified {ctx.account_id}:{api_id}"
                )
            yield doc
            self.after_edit(doc)

    def after_edit(self, doc: dict[str, Any]) -> None:
        """What an API does to its document after every edit (nothing, unless overridden)."""


def copy_given(params: dict[str, Any], fields: Iterable[str], into: dict[str, Any]) -> None:
    """Copy the members of `params` named in `fields` that the caller gave (not None) into `into`."""
    for k in fields:
        if params.get(k) is not None:
            into[k] = params[k]
