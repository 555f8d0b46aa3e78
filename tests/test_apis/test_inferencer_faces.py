"""Which faces FocusInferencer scores, and how an image's verdict is made
(issue #12, item 6): implausible detections (a detector stub adds an
'emblem' with impossible landmarks and one below the score threshold) are
left unscored and reported, the image score is the max over the scored
faces, a face too small for the 640 px search of a large photo is found on
tiles, grey input is flagged the same way in both of its forms, and the
inferencer, the converters and the demo share one default detector."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmfocus.faces import (DEFAULT_DETECTOR, BaseFaceDetector, Face,
                           build_face_detector, detect_multiscale,
                           implausible_face)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')
PHOTOS = osp.join(ROOT, 'demo', 'faces', 'photos')
PHOTO = osp.join(PHOTOS, '2008_001009.jpg')
PORTRAIT = osp.join(PHOTOS, 'Tom_Cruise_avp_2014_4.jpg')  # one 400 px face

pytest.importorskip('dlib')


class EmblemStub(BaseFaceDetector):
    """The default dlib detector, plus two false faces below the first real
    one (where an emblem on the clothing would be): one whose landmarks put
    the mouth above the eyes, one scoring below the threshold."""
    max_side = 640
    score_thr = 0.0

    def __init__(self):
        self.real = build_face_detector(DEFAULT_DETECTOR)

    def detect(self, img):
        faces = self.real.detect(img)
        f = faces[0]
        side = float(f.bbox[2] - f.bbox[0])
        shift = np.array([0., 1.2 * side], np.float32)
        lmk = f.landmarks.copy()
        lmk[:, 1] = 2 * lmk[:, 1].mean() - lmk[:, 1]  # mouth above the eyes
        emblem = Face(bbox=f.bbox + np.tile(shift, 2), score=f.score + 1,
                      landmarks=lmk + shift)
        faint = Face(bbox=f.bbox + np.tile(2 * shift, 2), score=-0.4,
                     landmarks=f.landmarks + 2 * shift)
        return sorted(faces + [emblem, faint], key=lambda x: -x.score)


def test_one_default_detector_for_converters_inference_and_demo(inferencer):
    from mmfocus.apis import inferencer as inf_mod
    from mmfocus.datasets import converters
    from mmfocus.faces import demo
    assert inf_mod.DEFAULT_DETECTOR is DEFAULT_DETECTOR
    assert converters.DEFAULT_DETECTOR is DEFAULT_DETECTOR
    # the demo data keep their stricter threshold, by reference
    assert demo.DEFAULT_DETECTOR == dict(DEFAULT_DETECTOR, score_thr=0.15)
    conv = build_face_detector(converters.DEFAULT_DETECTOR)
    assert repr(inferencer.detector) == repr(conv)
    assert inferencer.min_det_score == conv.score_thr


def test_real_faces_pass_the_plausibility_checks():
    det = build_face_detector(DEFAULT_DETECTOR)
    n = 0
    for name in sorted(f for f in os.listdir(PHOTOS)
                       if f.endswith('.jpg')):
        img = cv2.imread(osp.join(PHOTOS, name))
        for f in det.detect(img):
            assert implausible_face(f, img.shape, det.score_thr) is None, \
                (name, f.bbox)
            n += 1
    assert n >= 50


def test_implausible_geometry_is_named():
    img_shape = (400, 400, 3)
    det = build_face_detector(DEFAULT_DETECTOR)
    f = det.detect(cv2.imread(PHOTO))[0]
    ok = Face(f.bbox, f.score, f.landmarks)
    assert implausible_face(ok, (480, 360, 3)) is None
    assert 'score' in implausible_face(ok, img_shape, min_score=f.score + 1)
    tiny = Face(np.float32([10, 10, 22, 22]), 1.0, None)
    assert 'below 20 px' in implausible_face(tiny, img_shape)
    big_img = (8000, 8000, 3)
    assert 'image side' in implausible_face(
        Face(np.float32([0, 0, 60, 60]), 1.0, None), big_img)
    thin = Face(np.float32([0, 0, 200, 50]), 1.0, None)
    assert 'aspect' in implausible_face(thin, img_shape)
    lmk = f.landmarks.copy()
    lmk[48:68, 1] = lmk[36:48, 1].mean() - 5  # mouth above the eyes
    assert implausible_face(Face(f.bbox, f.score, lmk), (480, 360, 3)) == \
        'mouth not below the eyes'
    lmk = f.landmarks.copy()
    lmk[42:48] = lmk[36:42] + [3, 0]  # eyes 3 px apart in a 90 px box
    assert 'eye distance' in implausible_face(Face(f.bbox, f.score, lmk),
                                              (480, 360, 3))


def test_false_face_is_filtered_and_reported(tiny_ckpt, load_tool):
    from mmfocus.apis import FocusInferencer
    stub = EmblemStub()
    n_real = len(stub.real.detect(cv2.imread(PHOTO)))
    inf = FocusInferencer(TINY_CFG, tiny_ckpt, detector=stub,
                          show_progress=False)
    [res] = inf(PHOTO, return_maps=False)
    assert res['error'] is None
    assert len(res['faces']) == n_real  # only the real faces are scored
    reasons = sorted(r['reason'] for r in res['rejected_faces'])
    assert len(reasons) == 2
    assert reasons[0].startswith('detector score -0.40 below')
    assert reasons[1] == 'mouth not below the eyes'
    assert all('score' not in r for r in res['rejected_faces'])
    # the image-level rule: the max over the scored faces
    assert res['score'] == max(f['score'] for f in res['faces'])
    assert res['label'] == ('fake' if res['score'] >= 0.5 else 'real')
    # the summary shows each face, each rejected detection and the rule
    table = load_tool('tools/infer.py').summary_table([res])
    lines = table.splitlines()
    assert sum(ln.lstrip().startswith('face ') for ln in lines) == n_real
    rejected = [ln for ln in lines if ln.lstrip().startswith('rejected')]
    assert len(rejected) == 2
    assert any('not scored: mouth not below the eyes' in ln
               for ln in rejected)
    assert 'max over its faces' in lines[-1]
    # unfiltered, the 'emblem' would be scored as a face
    inf.filter_faces = False
    [raw] = inf(PHOTO, return_maps=False)
    assert len(raw['faces']) == n_real + 2 and raw['rejected_faces'] == []


def test_only_false_faces_is_an_error_naming_the_reason(tiny_ckpt):
    from mmfocus.apis import FocusInferencer

    class OnlyBad(EmblemStub):
        def detect(self, img):
            return [f for f in super().detect(img) if f.score < 0]

    inf = FocusInferencer(TINY_CFG, tiny_ckpt, detector=OnlyBad(),
                          show_progress=False)
    [res] = inf(PHOTO)
    assert res['faces'] == [] and res['score'] is None
    assert 'no plausible face' in res['error'] and PHOTO in res['error']
    assert 'below its threshold' in res['error']


@pytest.fixture(scope='module')
def large_photo(tmp_path_factory):
    """4000 x 4000 px: the portrait at 0.3 scale (a ~140 px face, ~22 px
    on the detector's 640 px copy: too small there) on a flat background."""
    img = cv2.imread(PORTRAIT)
    small = cv2.resize(img, None, fx=0.3, fy=0.3,
                       interpolation=cv2.INTER_AREA)
    canvas = np.full((4000, 4000, 3), 120, np.uint8)
    y0, x0 = 2000, 1333
    canvas[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small
    path = str(tmp_path_factory.mktemp('large') / 'large.jpg')
    cv2.imwrite(path, canvas, [cv2.IMWRITE_JPEG_QUALITY, 95])
    ref = build_face_detector(DEFAULT_DETECTOR).detect(img)[0].bbox
    return path, ref * 0.3 + np.float32([x0, y0, x0, y0])


def _iou(a, b):
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0., x2 - x1) * max(0., y2 - y1)
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1])
    return inter / (area - inter)


def test_large_photo_face_is_found_on_tiles(inferencer, large_photo):
    path, expect = large_photo
    img = cv2.imread(path)
    det = inferencer.detector
    assert det.detect(img) == []  # the 640 px search alone misses it
    faces, tile = detect_multiscale(det, img)
    assert tile == 2000 and len(faces) == 1
    [res] = inferencer(path, return_maps=False)
    assert res['error'] is None and len(res['faces']) == 1
    assert _iou(res['faces'][0]['box'], expect) > 0.6
    assert '2000 px tiles' in res['search']
    assert len(res['faces'][0]['landmarks']) == 68
    inferencer.multiscale = False
    try:
        [plain] = inferencer(path)
    finally:
        inferencer.multiscale = True
    assert plain['error'] == f'no face found in {path}'


def test_grey_input_is_flagged_and_scored_the_same_in_both_forms(
        inferencer, tmp_path):
    from mmfocus.apis.inference import is_grey_image
    colour = cv2.imread(PHOTO)
    grey1 = cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)
    grey3 = cv2.cvtColor(grey1, cv2.COLOR_GRAY2BGR)
    jpg = str(tmp_path / 'grey3.jpg')
    cv2.imwrite(jpg, grey3)  # a grey photo saved as a colour JPEG
    assert not is_grey_image(colour)
    assert is_grey_image(grey1) and is_grey_image(grey3)
    c, g1, g3, gj = inferencer([colour, grey1, grey3, jpg],
                               return_maps=False)
    assert c['grey'] is False and 'warnings' not in c
    assert not any(f['grey'] for f in c['faces'])
    for r in (g1, g3, gj):
        assert r['error'] is None and r['grey'] is True
        assert any('grey image' in w for w in r['warnings'])
        assert all(f['grey'] for f in r['faces'])
    # one channel or three equal ones: the same pixels, the same scores
    assert [f['score'] for f in g1['faces']] == \
        [f['score'] for f in g3['faces']]
    assert [f['box'] for f in g1['faces']] == \
        [f['box'] for f in g3['faces']]
