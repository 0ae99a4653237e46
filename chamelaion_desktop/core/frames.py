"""Decoded video pictures made ready to show: YUV 4:2:0 scaled and converted to BGRA at once.

The preview paints every frame of the playing output. Qt's own conversion of a frame to an
image runs on the GUI thread at the frame's full size, on the CPU when Qt has no GPU
backend (offscreen, Xvfb, many VMs): ~7-12 ms per 1280x720 frame here, 30 times a second,
which made the window stall (benchmarks/bench_ui.py). FFmpeg's swscale (through PyAV)
scales to the size on screen and converts in one SIMD pass: ~0.7 ms for the same frame.

No Qt here: the caller hands in the planes' bytes and strides. PyAV is imported with this
module (~0.08 s): import it off the GUI thread first (``VideoSurface`` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import av
from av.video.plane import VideoPlane
from av.video.reformatter import ColorRange, Colorspace, VideoReformatter

#: The YUV-to-RGB matrices a frame may use.
BT601 = Colorspace.ITU601
BT709 = Colorspace.ITU709
BT2020 = Colorspace.BT2020


@dataclass(frozen=True, slots=True)
class Picture:
    """A BGRA picture (bytes B, G, R, A per pixel, which is ``QImage.Format_RGB32`` on a
    little-endian machine): ``width`` x ``height`` pixels, ``stride`` bytes per row."""

    data: bytes
    width: int
    height: int
    stride: int


class FrameScaler:
    """Converts planar YUV 4:2:0 (8-bit) frames to BGRA at a chosen size, reusing FFmpeg's
    scaling context between frames of the same geometry. One per consumer; not thread-safe.
    """

    def __init__(self) -> None:
        self._reformatter = VideoReformatter()

    def yuv420p_to_bgra(
        self,
        planes: Sequence[bytes | memoryview],
        strides: Sequence[int],
        width: int,
        height: int,
        out_width: int,
        out_height: int,
        *,
        matrix: Colorspace | None = None,
        full_range: bool = False,
    ) -> Picture:
        """Scale and convert one frame.

        Args:
            planes: the Y, U and V planes (at least ``stride * rows`` bytes each; U and V
                have half the rows, rounded up).
            strides: bytes per row of each plane.
            width, height: the frame's size in pixels.
            out_width, out_height: the size wanted, in pixels (bilinear scaling).
            matrix: ``BT601``, ``BT709`` or ``BT2020``; None guesses from the height as
                FFmpeg does (BT709 from 720 rows up).
            full_range: the source uses full-range (0-255, "JPEG") levels rather than video
                levels (16-235).

        Raises:
            ValueError: fewer than three planes, or a size that is not positive.
        """
        if len(planes) < 3 or len(strides) < 3:
            raise ValueError("a YUV 4:2:0 frame has three planes")
        if min(width, height, out_width, out_height) <= 0:
            raise ValueError("frame sizes must be positive")
        source = av.VideoFrame(width, height, "yuv420p")
        for index, plane in enumerate(source.planes[:3]):
            rows = height if index == 0 else (height + 1) // 2
            _fill(plane, planes[index], strides[index], rows)
        scaled = self._reformatter.reformat(
            source,
            width=out_width,
            height=out_height,
            format="bgra",
            src_colorspace=matrix or (BT709 if height >= 720 else BT601),
            src_color_range=ColorRange.JPEG if full_range else ColorRange.MPEG,
            dst_color_range=ColorRange.JPEG,
            interpolation="BILINEAR",
            threads=1,  # a frame on screen is small: threads would cost more than they save
        )
        out = scaled.planes[0]
        return Picture(bytes(out), out_width, out_height, out.line_size)


def _fill(plane: VideoPlane, data: bytes | memoryview, stride: int, rows: int) -> None:
    """Copy ``rows`` rows of ``stride`` bytes into ``plane`` (whose own stride may differ)."""
    target = plane.line_size
    view = memoryview(data)
    if stride == target and len(view) >= target * rows:
        plane.update(view[: target * rows])  # type: ignore[arg-type]  # any buffer works
        return
    width = min(stride, target)
    pad = bytes(target - width)
    plane.update(
        b"".join(bytes(view[row * stride : row * stride + width]) + pad for row in range(rows))
    )
