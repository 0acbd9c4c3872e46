"""Pagination parameters shared by every list endpoint: ``offset`` and ``limit``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query


async def _page(
    offset: Annotated[int, Query(ge=0, le=1_000_000_000, description="items to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="items to return at most")] = 1000,
) -> tuple[int, int]:
    return offset, limit


Page = Annotated[tuple[int, int], Depends(_page)]
