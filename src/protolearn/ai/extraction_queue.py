"""Materials waiting to be read, taken in turn by uploader: one teacher's stack of uploads does
not hold back another teacher's single file."""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ("UploaderQueue",)


class UploaderQueue:
    """Round-robin over uploaders, first come first served within one uploader's materials.

    Unbounded on purpose: an entry is the id of a row already stored, counted against its
    uploader's size limit; dropping one would strand an upload in "processing".
    """

    def __init__(self) -> None:
        self._waiting: dict[int, deque[int]] = {}  # uploader -> their materials, oldest first
        self._turns: deque[int] = deque()  # uploaders with materials waiting, next first
        self._arrived = asyncio.Event()

    def __len__(self) -> int:
        return sum(len(materials) for materials in self._waiting.values())

    def put(self, uploader_id: int, material_id: int) -> None:
        if uploader_id not in self._waiting:
            self._waiting[uploader_id] = deque()
            self._turns.append(uploader_id)
        self._waiting[uploader_id].append(material_id)
        self._arrived.set()

    async def get(self) -> int:
        """The next uploader's oldest waiting material; waits for one."""
        while not self._turns:
            self._arrived.clear()
            await self._arrived.wait()
        uploader_id = self._turns.popleft()
        materials = self._waiting[uploader_id]
        material_id = materials.popleft()
        if materials:
            self._turns.append(uploader_id)  # their next one waits for everyone else's turn
        else:
            del self._waiting[uploader_id]
        return material_id
