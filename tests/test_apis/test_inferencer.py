"""FocusInferencer on a real photo, a folder of good and bad files, and
videos (tiny FoCus with random weights; dlib detection on small images)."""
import json
import os.path as osp
import shutil
import struct
import zlib

import cv2
import numpy as np
import pytest
from scipy.ndimage import map_coordinates

from mmfocus.apis.inference import inference_model
from mmfocus.apis.inferencer import DEFAULT_DETECTOR, project_map
from mmfocus.faces import crop_affine, crop_face, square_box

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PHOTO = osp.join(ROOT, 'demo', 'faces', 'photos', '2008_001009.jpg')

pytest.importorskip('dlib')


def write_huge_png(path, w, h):
    """A valid 1-bit grey PNG of w x h (tiny file, never decoded here)."""
    raw = (b'\x00' + b'\x00' * ((w + 7) // 8)) * h

    def chunk(tag, data):
        return (struct.pack('>I', len(data)) + tag + data +
                struct.pack('>I', zlib.crc32(tag + data) & 0xffffffff))

    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' +
                chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 1, 0, 0, 0, 0)) +
                chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))


def _near_faces_mask(shape, faces, pad):
    near = np.zeros(shape[:2], bool)
    for f in faces:
        x0, y0, side = f['crop_box']
        bx1, by1, bx2, by2 = f['box']
        x1, y1 = min(x0, bx1) - pad, min(y0, by1) - pad
        x2, y2 = max(x0 + side, bx2) + pad, max(y0 + side, by2) + pad
        near[max(int(y1), 0):max(int(np.ceil(y2)), 0),
             max(int(x1), 0):max(int(np.ceil(x2)), 0)] = True
    return near


def test_photo_faces_scores_and_projected_overlay(inferencer):
    img = cv2.imread(PHOTO)
    [res] = inferencer(PHOTO, return_vis=True)
    assert res['error'] is None and res['kind'] == 'image'
    ref = inferencer.detector.detect(img)  # the same dlib configuration
    assert inferencer.detector.__class__.__name__ == DEFAULT_DETECTOR['type']
    assert len(res['faces']) == len(ref) >= 1
    for f, d in zip(res['faces'], ref):
        np.testing.assert_allclose(f['box'], d.bbox, atol=0.01)
        assert 0 <= f['score'] <= 1
        assert f['label'] == ('fake' if f['score'] >= 0.5 else 'real')
        assert len(f['landmarks']) == 68
        for key in ('map', 'map_fake'):
            assert f[key].shape == (224, 224)
            assert f[key].min() >= 0 and f[key].max() <= 1
        # the crop is crop_face's: same affine, same score from the model
        x0, y0, side = square_box(d.landmarks, None, 1.3)
        np.testing.assert_allclose(f['affine'],
                                   crop_affine(x0, y0, side, 224))
        crop, _, _ = crop_face(img, d.landmarks, margin=1.3, size=224)
        [ds] = inference_model(inferencer.model, [crop])
        assert f['score'] == pytest.approx(float(ds.pred_score[1]), abs=1e-5)
        small = cv2.resize(f['map'], (32, 32), interpolation=cv2.INTER_AREA)
        assert np.abs(small - ds.pred_map.numpy()).mean() < 0.02
    assert res['score'] == max(f['score'] for f in res['faces'])

    vis = res['vis']
    assert vis.shape == img.shape
    diff = np.abs(vis.astype(int) - img).max(-1) > 0
    near = _near_faces_mask(img.shape, res['faces'], pad=30)
    assert not diff[~near].any(), 'overlay changed pixels far from faces'
    # Inside each face square, away from boxes, text and other faces, the
    # overlay is the face's map read at the crop position of the pixel
    # (scipy bilinear sampling of the crop-space map), coloured and blended.
    rng = np.random.default_rng(0)
    checked = 0
    for i, f in enumerate(res['faces']):
        x0, y0, side = f['crop_box']
        A = np.asarray(f['affine'])
        others = _near_faces_mask(img.shape, res['faces'][:i] +
                                  res['faces'][i + 1:], pad=30)
        lines = np.zeros(img.shape[:2], bool)
        for g in res['faces']:
            bx1, by1, bx2, by2 = [int(round(v)) for v in g['box']]
            lines[max(by1 - 30, 0):by1 + 4, max(bx1 - 4, 0):bx2 + 4] = True
            lines[max(by1 - 4, 0):by2 + 4, max(bx1 - 4, 0):bx1 + 4] = True
            lines[max(by1 - 4, 0):by2 + 4, max(bx2 - 5, 0):bx2 + 4] = True
            lines[max(by2 - 5, 0):by2 + 30, max(bx1 - 4, 0):bx2 + 4] = True
        for _ in range(200):
            x = int(x0 + side * rng.uniform(0.15, 0.85))
            y = int(y0 + side * rng.uniform(0.15, 0.85))
            if not (0 <= x < img.shape[1] and 0 <= y < img.shape[0]) or \
                    others[y, x] or lines[y, x]:
                continue
            qx, qy = A @ np.array([x, y, 1.0])
            val = map_coordinates(f['map'], [[qy], [qx]], order=1)[0]
            color = cv2.applyColorMap(
                np.uint8([[np.clip(val * 255 + .5, 0, 255)]]),
                cv2.COLORMAP_JET)[0, 0].astype(float)
            expect = img[y, x] * 0.5 + color * 0.5
            assert np.abs(vis[y, x] - expect).max() <= 4, (x, y)
            checked += 1
    assert checked >= 100


def test_project_map_inverts_the_crop():
    """Projecting a crop-space map onto the image and cropping it again
    with the forward affine (plain cv2.warpAffine) gives the map back."""
    h, w, S = 300, 400, 64
    affine = crop_affine(150.5, 80.25, 120.0, S)
    yy, xx = np.mgrid[0:S, 0:S]
    m = ((xx + 2 * yy) / (3 * (S - 1))).astype(np.float32)
    win, proj, cover = project_map(m, affine, (h, w))
    full = np.zeros((h, w), np.float32)
    full[win] = proj
    cov = np.zeros((h, w), np.float32)
    cov[win] = cover
    back = cv2.warpAffine(full, affine, (S, S), flags=cv2.INTER_LINEAR)
    np.testing.assert_allclose(back[3:-3, 3:-3], m[3:-3, 3:-3], atol=0.02)
    assert cov[140, 210] == pytest.approx(1)  # inside the square
    assert cov[20, 20] == 0 and cov[290, 390] == 0
    assert win[0].start >= 0 and win[1].stop <= w
    # a square partly outside the image is clipped, not an error
    win2, proj2, _ = project_map(m, crop_affine(-50, -50, 100, S), (h, w))
    assert win2[0].start == 0 and proj2.shape[0] <= 52
    assert project_map(m, crop_affine(1000, 1000, 50, S), (h, w))[0] is None


@pytest.fixture(scope='module')
def bad_folder(tmp_path_factory):
    d = tmp_path_factory.mktemp('mixed')
    img = cv2.imread(PHOTO)
    shutil.copy(PHOTO, d / 'a_good.jpg')
    (d / 'b_notes.txt').write_text('these are notes, not an image')
    (d / 'c_empty.jpg').write_bytes(b'')
    cv2.imwrite(str(d / 'd_grey.png'), cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    rgba = cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
    rgba[..., 3] = 100
    cv2.imwrite(str(d / 'e_rgba.png'), rgba)
    cv2.imwrite(str(d / 'f_16bit.png'), img.astype(np.uint16) * 257)
    cv2.imwrite(str(d / 'g_noface.png'), np.full((120, 160, 3), 90,
                                                 np.uint8))
    write_huge_png(str(d / 'h_huge.png'), 20000, 20000)
    (d / 'i_truncated.jpg').write_bytes(
        open(PHOTO, 'rb').read()[:200])
    return str(d)


def test_folder_with_bad_files(inferencer, bad_folder, tmp_path):
    out = str(tmp_path / 'out')
    results = inferencer(bad_folder, out_dir=out, return_maps=False)
    by = {osp.basename(r['input']): r for r in results}
    assert sorted(by) == ['a_good.jpg', 'b_notes.txt', 'c_empty.jpg',
                          'd_grey.png', 'e_rgba.png', 'f_16bit.png',
                          'g_noface.png', 'h_huge.png', 'i_truncated.jpg']
    good = by['a_good.jpg']
    assert good['error'] is None and len(good['faces']) >= 1
    assert 'map' not in good['faces'][0]
    for name in ('d_grey.png', 'e_rgba.png', 'f_16bit.png'):
        assert by[name]['error'] is None, by[name]['error']
        assert len(by[name]['faces']) >= 1
    # RGBA and 16-bit hold the same pixels as the JPEG: same faces, scores
    for name in ('e_rgba.png', 'f_16bit.png'):
        assert [f['score'] for f in by[name]['faces']] == pytest.approx(
            [f['score'] for f in good['faces']], abs=1e-4)
    expect = {
        'b_notes.txt': 'not an image',
        'c_empty.jpg': 'zero-byte',
        'g_noface.png': 'no face',
        'h_huge.png': 'too large',
        'i_truncated.jpg': 'corrupt',
    }
    for name, words in expect.items():
        err = by[name]['error']
        assert err and words in err and name in err, (name, err)
        assert by[name]['score'] is None
    assert '20000 x 20000' in by['h_huge.png']['error']

    saved = json.load(open(osp.join(out, 'results.json')))
    assert len(saved['results']) == len(results)
    assert saved['meta']['crop_size'] == 224
    errors = {osp.basename(r['input']): r['error'] for r in saved['results']}
    assert errors['c_empty.jpg'] == by['c_empty.jpg']['error']
    ok = [r for r in saved['results'] if r['error'] is None]
    assert len(ok) == 4 and all(r['vis_path'] for r in ok)
    names = {r['vis_path'] for r in ok}
    assert len(names) == 4  # unique names
    for r in ok:
        vis = cv2.imread(osp.join(out, r['vis_path']))
        assert vis is not None and vis.shape[:2] == (r['height'],
                                                     r['width'])
    with pytest.raises(FileExistsError, match='results.json'):
        inferencer(PHOTO, out_dir=out)
    again = inferencer(PHOTO, out_dir=out, overwrite=True)
    assert len(json.load(open(osp.join(out, 'results.json')))['results']) \
        == len(again) == 1


def test_arrays_lists_and_unsupported_inputs(inferencer, tmp_path):
    img = cv2.imread(PHOTO)
    res = inferencer([img, cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), 42,
                      str(tmp_path / 'missing.jpg'), str(tmp_path)])
    assert [r['error'] is None for r in res] == [True, True, False, False,
                                                 False]
    assert res[0]['input'] == 'array_0' and len(res[0]['faces']) >= 1
    assert 'unsupported type int' in res[2]['error']
    assert 'missing.jpg' in res[3]['error']
    assert 'empty folder' in res[4]['error']


def test_video_frames_score_and_bad_videos(inferencer, face_video,
                                           tmp_path):
    corrupt = tmp_path / 'corrupt.mp4'
    data = open(face_video, 'rb').read()
    corrupt.write_bytes(data[:len(data) // 3])
    empty = tmp_path / 'empty.avi'
    empty.write_bytes(b'')
    out = str(tmp_path / 'out')
    vid, bad, zero = inferencer([face_video, str(corrupt), str(empty)],
                                out_dir=out)
    assert vid['kind'] == 'video' and vid['error'] is None
    assert [fr['frame_idx'] for fr in vid['frames']] == list(range(8))
    assert vid['num_frames'] == 8
    with_face = [fr for fr in vid['frames'] if fr['faces']]
    assert len(with_face) >= 6
    assert vid['num_frames_without_face'] == 8 - len(with_face)
    for fr in with_face:
        assert fr['score'] == max(f['score'] for f in fr['faces'])
        assert fr['faces'][0]['map'].shape == (224, 224)
    assert vid['score'] == pytest.approx(
        np.mean([fr['score'] for fr in with_face]))
    assert 'corrupt.mp4' in bad['error'] and bad['score'] is None
    assert 'empty.avi' in zero['error'] and 'zero-byte' in zero['error']

    cap = cv2.VideoCapture(osp.join(out, vid['vis_path']))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    assert n == 8
    strip = cv2.imread(osp.join(out, vid['strip_path']))
    assert strip.shape[0] == 128 and strip.shape[1] == 8 * 128
    saved = json.load(open(osp.join(out, 'results.json')))['results']
    assert saved[0]['num_frames'] == 8 and 'map' not in json.dumps(saved)

    # stride and frame cap; a video without faces
    [sub] = inferencer(face_video, video_stride=3, max_frames=2)
    assert [fr['frame_idx'] for fr in sub['frames']] == [0, 3]
    blank = str(tmp_path / 'blank.avi')
    writer = cv2.VideoWriter(blank, cv2.VideoWriter_fourcc(*'MJPG'), 5,
                             (64, 64))
    for _ in range(3):
        writer.write(np.full((64, 64, 3), 128, np.uint8))
    writer.release()
    [nf] = inferencer(blank)
    assert nf['num_frames'] == nf['num_frames_without_face'] == 3
    assert nf['score'] is None and 'no face' in nf['error']


def test_calls_keep_no_state_on_the_inferencer(inferencer, tmp_path,
                                               monkeypatch):
    """Each call's state (output folder, names, queue) is its own: nothing
    is left on the inferencer, and an interrupted call leaves nothing for
    the next one."""
    import mmfocus.apis.inferencer as inferencer_mod
    before = dict(vars(inferencer))
    real = inferencer_mod.inference_model

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt('killed')

    monkeypatch.setattr(inferencer_mod, 'inference_model', interrupted)
    with pytest.raises(KeyboardInterrupt):
        inferencer([PHOTO, PHOTO], out_dir=str(tmp_path / 'a'))
    monkeypatch.setattr(inferencer_mod, 'inference_model', real)
    assert vars(inferencer) == before
    [res] = inferencer(PHOTO, out_dir=str(tmp_path / 'b'))
    assert vars(inferencer) == before
    assert res['faces'] and res['vis_path'] == 'vis/2008_001009.jpg'
    lines = open(tmp_path / 'b' / 'results.jsonl').read().splitlines()
    assert [json.loads(ln)['input'] for ln in lines] == [PHOTO]
