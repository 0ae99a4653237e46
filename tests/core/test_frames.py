"""core.frames: planar YUV 4:2:0 scaled and converted to BGRA in one pass (the preview's path)."""

from __future__ import annotations

import pytest

from chamelaion_desktop.core.frames import BT601, BT709, FrameScaler


def solid(
    width: int, height: int, y: int, u: int, v: int, pad: int = 0
) -> tuple[list[bytes], list[int]]:
    """Planes of one colour; ``pad`` extra bytes at the end of every row (a decoder's stride)."""
    chroma_w, chroma_h = (width + 1) // 2, (height + 1) // 2
    strides = [width + pad, chroma_w + pad, chroma_w + pad]
    planes = [
        (bytes([y]) * width + bytes(pad)) * height,
        (bytes([u]) * chroma_w + bytes(pad)) * chroma_h,
        (bytes([v]) * chroma_w + bytes(pad)) * chroma_h,
    ]
    return planes, strides


def pixel(data: bytes, stride: int, x: int, y: int) -> tuple[int, int, int]:
    """(R, G, B) of a BGRA picture."""
    offset = y * stride + x * 4
    blue, green, red = data[offset], data[offset + 1], data[offset + 2]
    return red, green, blue


@pytest.mark.parametrize("pad", [0, 24])
def test_a_frame_is_scaled_and_converted_to_the_size_asked(pad: int) -> None:
    # BT.601 video-range red: Y 81, Cb 90, Cr 240.
    planes, strides = solid(320, 180, 81, 90, 240, pad)
    picture = FrameScaler().yuv420p_to_bgra(planes, strides, 320, 180, 160, 90, matrix=BT601)
    assert (picture.width, picture.height) == (160, 90)
    assert picture.stride >= 160 * 4
    assert len(picture.data) >= picture.stride * 90
    for x, y in ((0, 0), (80, 45), (159, 89)):
        red, green, blue = pixel(picture.data, picture.stride, x, y)
        assert red > 240 and green < 15 and blue < 15, (x, y, red, green, blue)


def test_levels_and_matrix_are_honoured() -> None:
    scaler = FrameScaler()
    # Video-range black (Y 16) is black; full-range Y 16 is a dark grey.
    planes, strides = solid(64, 64, 16, 128, 128)
    video = scaler.yuv420p_to_bgra(planes, strides, 64, 64, 32, 32, matrix=BT709)
    full = scaler.yuv420p_to_bgra(planes, strides, 64, 64, 32, 32, matrix=BT709, full_range=True)
    assert max(pixel(video.data, video.stride, 10, 10)) <= 2
    assert 12 <= min(pixel(full.data, full.stride, 10, 10)) <= 20


def test_odd_sizes_and_bad_input() -> None:
    planes, strides = solid(33, 17, 128, 128, 128)
    picture = FrameScaler().yuv420p_to_bgra(planes, strides, 33, 17, 31, 15)
    assert (picture.width, picture.height) == (31, 15)
    assert abs(pixel(picture.data, picture.stride, 15, 7)[0] - 130) <= 4
    with pytest.raises(ValueError):
        FrameScaler().yuv420p_to_bgra(planes[:2], strides, 33, 17, 31, 15)
    with pytest.raises(ValueError):
        FrameScaler().yuv420p_to_bgra(planes, strides, 33, 17, 0, 15)
