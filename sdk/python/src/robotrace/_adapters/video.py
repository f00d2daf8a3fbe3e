"""The episode video: frames (H x W x 3 RGB, H x W x 4 RGBA or H x W gray, uint8) into an H.264 MP4.

Written with PyAV (the ``[video]`` extra), whose wheels carry an FFmpeg with libx264, so the file plays in
browsers. (The official 0.3.0 writes MPEG-4 Part 2 through OpenCV, which Chromium does not play.)
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

from .deps import numpy, require


class FrameError(ValueError):
    """A frame that cannot go into the video (wrong shape, a size other than the first frame's)."""


class Mp4Writer:
    """Appends frames to ``path``; every frame must have the first frame's size. As a context manager it
    removes a half-written file when the block raises."""

    def __init__(self, path: Path, *, fps: float, extra: str) -> None:
        self._av = require("av", extra=f"{extra},video", purpose="Writing the episode video")
        self._np = numpy(extra)
        self.path = path
        self._rate = Fraction(fps).limit_denominator(1001)
        self._container: Any = None
        self._stream: Any = None
        self._shape: tuple[int, ...] | None = None
        self.frames = 0

    def add(self, frame: Any) -> None:
        rgb = self._rgb(frame)
        if self._container is None:
            self._open(rgb.shape)
        elif rgb.shape != self._shape:
            raise FrameError(
                f"frame {self.frames} is {rgb.shape[1]}x{rgb.shape[0]}, "
                f"the first frame was {self._shape[1]}x{self._shape[0]}"  # type: ignore[index]
            )
        padded = self._even(rgb)
        video_frame = self._av.VideoFrame.from_ndarray(padded, format="rgb24")
        for packet in self._stream.encode(video_frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> int:
        """Flush and close; the number of frames written."""
        if self._container is not None:
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
            self._container = None
        return self.frames

    def discard(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            finally:
                self._container = None
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Mp4Writer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()

    def _rgb(self, frame: Any) -> Any:
        np = self._np
        array = np.asarray(frame)
        if array.dtype != np.uint8:
            raise FrameError(f"frame {self.frames} is {array.dtype}, not uint8")
        if array.ndim == 2:
            array = np.repeat(array[:, :, None], 3, axis=2)
        if array.ndim != 3 or array.shape[2] not in (3, 4) or array.shape[0] == 0 or array.shape[1] == 0:
            raise FrameError(f"frame {self.frames} has shape {array.shape}; expected H x W x 3 (RGB)")
        return np.ascontiguousarray(array[:, :, :3])

    def _even(self, rgb: Any) -> Any:
        # H.264 in yuv420p needs even sides: repeat the last row / column when a side is odd.
        height, width = rgb.shape[:2]
        if height % 2 == 0 and width % 2 == 0:
            return rgb
        return self._np.pad(rgb, ((0, height % 2), (0, width % 2), (0, 0)), mode="edge")

    def _open(self, shape: tuple[int, ...]) -> None:
        self._shape = shape
        # faststart: the index at the front, so a browser can start playing before the whole file arrives.
        self._container = self._av.open(
            str(self.path), mode="w", format="mp4", options={"movflags": "+faststart"}
        )
        stream = self._container.add_stream("libx264", rate=self._rate)
        stream.width = shape[1] + shape[1] % 2
        stream.height = shape[0] + shape[0] % 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "23"}
        self._stream = stream
