"""``AsyncClient`` and ``AsyncEpisode``: the same API for asyncio code (implemented in ``robotrace._aio``).

::

    async with rt.AsyncClient() as client:
        ep = await client.log_episode(name="sim sweep", video="run.mp4")
        async with await client.start_episode(artifacts=["video"]) as ep:
            await ep.upload_video("run.mp4")
"""

from ._aio import AsyncClient, AsyncEpisode

__all__ = ["AsyncClient", "AsyncEpisode"]
