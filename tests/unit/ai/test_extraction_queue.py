"""Uploads wait in turn by teacher: round-robin between uploaders, oldest first within one."""

from __future__ import annotations

import asyncio

from protolearn.ai.extraction_queue import UploaderQueue


async def taken(queue: UploaderQueue, count: int) -> list[int]:
    return [await queue.get() for _ in range(count)]


async def test_uploaders_take_turns_and_each_keeps_their_order() -> None:
    queue = UploaderQueue()
    for material_id in (101, 102, 103, 104):  # one teacher's pile, uploaded first
        queue.put(1, material_id)
    queue.put(2, 201)
    queue.put(3, 301)
    queue.put(2, 202)
    assert len(queue) == 7
    assert await taken(queue, 7) == [101, 201, 301, 102, 202, 103, 104]
    assert len(queue) == 0


async def test_a_newcomer_goes_after_those_already_waiting() -> None:
    queue = UploaderQueue()
    queue.put(1, 101)
    queue.put(1, 102)
    queue.put(2, 201)
    assert await queue.get() == 101
    queue.put(3, 301)  # arrives while 101 is being read
    assert await taken(queue, 3) == [201, 102, 301]


async def test_get_waits_for_an_upload() -> None:
    queue = UploaderQueue()
    waiting = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    assert not waiting.done()
    queue.put(7, 701)
    assert await asyncio.wait_for(waiting, timeout=10) == 701
