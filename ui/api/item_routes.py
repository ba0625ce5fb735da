"""Routes catalogue resources have alike: create and search the collection; read, change, delete an item."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from engine.engine import Engine
from models.common import NO_NUL
from ui.api.paging import Paging, paging
from ui.dependencies import EngineDep

Item = dict[str, Any]
# The engine parameter every synthesized endpoint takes (FastAPI resolves it with Depends).
ENGINE = inspect.Parameter("engine", inspect.Parameter.KEYWORD_ONLY, annotation=EngineDep)


def add_item_routes(
    router: APIRouter,
    path: str,
    *,
    get: Callable[[Engine, str], Item],
    update: Callable[[Engine, str, Any], Item],
    delete: Callable[[Engine, str], None],
    body: type[BaseModel],
    methods: tuple[str, ...] = ("PUT", "PATCH"),
    update_doc: str = "",
) -> None:
    """GET `path` answers `get(engine, id)`, each of `methods` answers `update(engine, id, body)`, DELETE
    answers 204 after `delete(engine, id)`.

    `path` ends in the id parameter, e.g. "/offers/{offer_id}"; the parameter keeps that name in the API docs.
    """
    key = path.rsplit("{", 1)[1].rstrip("}")
    noun = key.removesuffix("_id")
    ident = inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, annotation=str)
    payload = inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body)

    def read(**values: Any) -> Item:
        return get(values["engine"], values[key])

    def change(**values: Any) -> Item:
        return update(values["engine"], values[key], values["body"])

    def remove(**values: Any) -> Response:
        delete(values["engine"], values[key])
        return Response(status_code=204)

    # FastAPI reads parameters from the signature: give each endpoint the resource's own id name and body.
    read.__signature__ = inspect.Signature([ident, ENGINE], return_annotation=Item)  # type: ignore[attr-defined]
    change.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [ident, payload, ENGINE], return_annotation=Item)
    remove.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [ident, ENGINE], return_annotation=Response)
    router.add_api_route(path, read, methods=["GET"], name=f"get_{noun}")
    for method in methods:  # one route per method: each gets its own OpenAPI operation id
        router.add_api_route(path, change, methods=[method], name=f"update_{noun}", description=update_doc)
    router.add_api_route(path, remove, methods=["DELETE"], status_code=204, name=f"delete_{noun}")


def add_collection_routes(
    router: APIRouter,
    path: str,
    *,
    create: Callable[[Engine, Any], Item],
    body: type[BaseModel],
    search: Callable[..., Item],
) -> None:
    """POST `path` answers 201 with `create(engine, body)`; GET answers `search(engine, search=, limit=,
    offset=)`."""
    noun = path.rstrip("/").rsplit("/", 1)[1].replace("-", "_")
    payload = inspect.Parameter("body", inspect.Parameter.KEYWORD_ONLY, annotation=body)

    def add(body: Any, engine: Engine) -> Item:
        return create(engine, body)

    def find(
        engine: EngineDep,
        text: str | None = Query(None, pattern=NO_NUL, alias="search", max_length=200),
        page: Paging = Depends(paging),
    ) -> Item:
        return search(engine, search=text, limit=page.limit, offset=page.offset)

    add.__signature__ = inspect.Signature([payload, ENGINE], return_annotation=Item)  # type: ignore[attr-defined]
    singular = noun.removesuffix("s")
    router.add_api_route(path, add, methods=["POST"], status_code=201, name=f"create_{singular}")
    router.add_api_route(path, find, methods=["GET"], name=f"list_{noun}")
