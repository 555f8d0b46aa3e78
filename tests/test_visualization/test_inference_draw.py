"""mmfocus.visualization.inference_draw: overlays and the frame strip."""
import numpy as np

from mmfocus.faces import crop_face
from mmfocus.visualization.inference_draw import (FAKE_COLOR, FrameStrip,
                                                  draw_faces, draw_frame)


def _face(img, box=(20, 20, 60, 60)):
    _, _, affine = crop_face(img, bbox=np.array(box, float), margin=1.0,
                             size=32)
    return dict(box=list(box), score=0.9, label='fake',
                affine=affine.tolist(), map=np.ones((32, 32), np.float32))


def test_draw_faces_and_frame_leave_the_input_alone():
    img = np.full((100, 120, 3), 100, np.uint8)
    face = _face(img)
    vis = draw_faces(img, [face])
    assert (img == 100).all() and vis.shape == img.shape
    assert tuple(vis[20, 40]) == FAKE_COLOR  # the box's top edge
    assert (vis[40, 40] != 100).any()  # the heat-map inside the face
    assert (vis[90, 110] == 100).all()  # nothing far from it
    labelled = draw_frame(img, [face], 3)
    assert (labelled[90:, :40] != vis[90:, :40]).any()  # 'frame 3'
    assert (draw_faces(img, [dict(face, map=None)])[40, 40] == 100).all()


def test_frame_strip_keeps_at_most_keep_thumbnails_spread_out():
    strip = FrameStrip(height=16, keep=4, show=3)
    assert strip.image() is None
    for i in range(20):
        strip.add(np.full((32, 48, 3), i, np.uint8))
    assert len(strip.thumbs) <= 4 and strip.keep_every > 1
    kept = [int(t[0, 0, 0]) for t in strip.thumbs]
    assert kept == sorted(kept) and kept[0] == 0 and kept[-1] >= 8
    img = strip.image()
    assert img.shape == (16, 3 * 24, 3)
