"""The app's HTTP side on a real server (``python -m mmfocus.app`` on a free
loopback port): the page and its CSP, the JSON API, the limits, the errors,
and the parts of the page's data checked against independent references."""
import base64
import http.client
import json
import os
import os.path as osp
import re
import time
import urllib.parse

import cv2
import numpy as np
import pytest

from app_helpers import DEMO, FACE, LIMITS, ROOT, start_app


def wait(app, job_id, timeout=120):
    t = time.time()
    while time.time() - t < timeout:
        status, st = app.json(f'/api/jobs/{job_id}')
        assert status == 200, st
        if st['state'] in ('done', 'error'):
            return st
        time.sleep(0.1)
    raise AssertionError(f'job {job_id} did not finish: {st}')


def upload(app, path, name=None):
    with open(path, 'rb') as f:
        data = f.read()
    name = name or osp.basename(path)
    return app.json('/api/jobs', data=data, method='POST',
                    headers={'X-Filename': urllib.parse.quote(name)})


def decode(uri):
    head, b64 = uri.split(',', 1)
    assert head in ('data:image/jpeg;base64', 'data:image/png;base64')
    buf = np.frombuffer(base64.b64decode(b64), np.uint8)
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)


def test_binds_loopback_and_serves_the_page_offline(app):
    assert app.url.startswith('http://127.0.0.1:')
    status, headers, body = app.request('/')
    assert status == 200
    csp = headers['content-security-policy']
    assert "default-src 'none'" in csp and "connect-src 'self'" in csp
    html = body.decode()
    # nothing outside this server: no absolute URL in any src/href
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:|//)', html)
    for asset in ('/static/app.js', '/static/app.css'):
        assert asset in html
        s, h, b = app.request(asset)
        assert s == 200 and 'content-security-policy' in h and b
        # no URL but the SVG namespace (a name, never fetched)
        b = b.replace(b"'http://www.w3.org/2000/svg'", b'')
        assert b'http://' not in b and b'https://' not in b
    status, info = app.json('/api/info')
    assert status == 200 and FACE in info['demo']
    assert info['device'] == 'cpu'
    assert info['max_upload_bytes'] == int(LIMITS['max_upload_mb'] * 2**20)


def test_image_scores_match_the_inferencer(app, reference):
    status, body = upload(app, osp.join(DEMO, FACE), name='my photo.jpg')
    assert status == 202, body
    st = wait(app, body['id'])
    assert st['state'] == 'done', st
    res = st['result']
    [ref] = reference(osp.join(DEMO, FACE))
    assert res['name'] == 'my photo.jpg' and res['kind'] == 'image'
    assert res['score'] == pytest.approx(ref['score'], abs=1e-5)
    view = res['view']
    got = sorted(f['score'] for f in view['faces'])
    want = sorted(f['score'] for f in ref['faces'])
    assert got == pytest.approx(want, abs=1e-5) and len(got) == 2
    # boxes in display pixels (the demo photo is below the display size)
    assert view['scale'] == 1.0
    img = cv2.imread(osp.join(DEMO, FACE))
    assert (view['height'], view['width']) == img.shape[:2]
    by_score = {round(f['score'], 4): f for f in ref['faces']}
    for f in view['faces']:
        r = by_score[round(f['score'], 4)]
        assert f['box'] == pytest.approx(list(r['box']))
        # the map images are the inferencer's maps, colourised (JET)
        m = decode(f['map'])
        want = cv2.applyColorMap(
            np.clip(r['map'] * 255 + .5, 0, 255).astype(np.uint8),
            cv2.COLORMAP_JET)
        assert m.shape == want.shape
        assert np.abs(m.astype(int) - want).mean() < 6  # JPEG
        assert f['map_mean'] == pytest.approx(float(r['map'].mean()))
    # the transparent layer: opaque exactly inside the faces' crops
    layer = decode(view['layers']['map'])
    assert layer.shape == img.shape[:2] + (4, )
    from mmfocus.visualization.inference_draw import draw_faces
    a = layer[..., 3:].astype(np.float32) / 255 * 0.5
    blend = img * (1 - a) + layer[..., :3] * a
    ref_vis = draw_faces(img, [dict(f, label='x') for f in ref['faces']],
                         alpha=0.5)
    inside = layer[..., 3] == 255
    assert 0.02 < inside.mean() < 0.9
    # the page's blend at 50 % is the overlay tools/infer.py draws (boxes
    # and labels aside: compare away from the box lines)
    diff = np.abs(blend - ref_vis.astype(np.float32)).max(-1)
    assert np.median(diff[inside]) <= 1.0
    assert (layer[..., 3] == 0).mean() > 0.1


def test_demo_faces_and_errors(app):
    s, body = app.json(f'/api/jobs?demo={FACE}', method='POST')
    assert s == 202
    assert wait(app, body['id'])['state'] == 'done'
    s, body = app.json('/api/jobs?demo=..%2F..%2Fsetup.py', method='POST')
    assert s == 404 and 'no such demo face' in body['error']
    s, _, _ = app.request('/api/demo/..%2Fsetup.py')
    assert s == 404
    s, _, data = app.request(f'/api/demo/{FACE}')
    assert s == 200 and data == open(osp.join(DEMO, FACE), 'rb').read()
    # not a file type it takes / empty / no name
    s, body = app.json('/api/jobs', data=b'x', method='POST',
                       headers={'X-Filename': 'notes.txt'})
    assert s == 400 and 'notes.txt: not a file type' in body['error']
    s, body = app.json('/api/jobs', data=b'', method='POST',
                       headers={'X-Filename': 'a.jpg'})
    assert s == 400 and 'empty' in body['error']
    s, body = app.json('/api/jobs', data=b'x', method='POST')
    assert s == 400 and 'X-Filename' in body['error']
    # a corrupt image: the job fails with a message naming the user's file
    s, body = app.json('/api/jobs', data=b'not a jpeg' * 10, method='POST',
                       headers={'X-Filename': 'broken.jpg'})
    st = wait(app, body['id'])
    assert st['state'] == 'error'
    assert st['error'] == 'not an image or corrupt image file: broken.jpg'
    # a picture without a face
    ok, buf = cv2.imencode('.png', np.full((64, 64, 3), 128, np.uint8))
    s, body = app.json('/api/jobs', data=buf.tobytes(), method='POST',
                       headers={'X-Filename': 'wall.png'})
    st = wait(app, body['id'])
    assert st['state'] == 'error' and 'no face' in st['error']
    s, body = app.json('/api/jobs/0123456789ab')
    assert s == 404 and 'no such job' in body['error']
    s, _, _ = app.request('/nowhere')
    assert s == 404


def test_upload_limit_declared_and_streamed(app):
    big = os.urandom(int(LIMITS['max_upload_mb'] * 2**20) + 10)
    s, body = app.json('/api/jobs', data=big, method='POST',
                       headers={'X-Filename': 'big.jpg'})
    assert s == 413
    assert body['error'] == ('big.jpg is larger than the upload limit of '
                             '1 MB (start the app with --max-upload-mb to '
                             'change it)')
    # no Content-Length (chunked): cut off while it streams in
    host, port = urllib.parse.urlsplit(app.url).netloc.split(':')
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    chunks = (big[i:i + 65536] for i in range(0, len(big), 65536))
    conn.request('POST', '/api/jobs', body=chunks, encode_chunked=True,
                 headers={'X-Filename': 'big.jpg'})
    r = conn.getresponse()
    assert r.status == 413 and 'upload limit' in json.loads(r.read())['error']
    conn.close()
    # nothing of it is left behind
    leftovers = [osp.join(d, f) for d, _, fs in os.walk(app.tmp)
                 for f in fs]
    assert leftovers == []


def test_video_frames_stride_and_length_limit(app, clips, reference):
    s, body = upload(app, clips['ok'])
    st = wait(app, body['id'])
    assert st['state'] == 'done', st
    res = st['result']
    # 20 frames, at most 8 scored: every 3rd (0, 3, ..., 18)
    assert res['stride'] == 3
    frames = res['view']['frames']
    assert [f['frame_idx'] for f in frames] == list(range(0, 20, 3))
    assert frames[1]['t'] == pytest.approx(0.3)
    [ref] = reference(clips['ok'], video_stride=3, max_frames=8)
    assert res['score'] == pytest.approx(ref['score'], abs=1e-5)
    assert [f['score'] for f in frames] == pytest.approx(
        [f['score'] for f in ref['frames']], abs=1e-5)
    top = res['view']['top_frame']
    assert top['frame_idx'] == max(ref['frames'],
                                   key=lambda f: f['score'])['frame_idx']
    assert len(top['faces']) == 2 and top['layers']['map_fake']
    # progress of the finished job: every frame counted, a rate
    p = st['progress']
    assert p['done'] == p['total'] == 7 and p['rate'] > 0
    # 3 s > the 2.5 s limit
    s, body = upload(app, clips['long'])
    st = wait(app, body['id'])
    assert st['state'] == 'error'
    assert st['error'] == ('video too long: long.mp4 is 3.0 s, this app '
                           'takes at most 2.5 s (start it with '
                           '--max-video-seconds to change that)')


def test_stops_on_ctrl_c_and_cleans_up(tmp_path):
    a = start_app(tmp_path)
    s, info = a.json('/api/info')
    assert s == 200
    code = a.stop()
    out = a.output()
    assert code == 0, out
    assert 'mmfocus app: stopped' in out
    assert [p for p in os.listdir(tmp_path)
            if p.startswith('mmfocus-app-')] == []


def test_refuses_a_missing_checkpoint_and_a_busy_port(tmp_path, run_tool):
    proc = run_tool(['-m', 'mmfocus.app', '--checkpoint',
                     str(tmp_path / 'none.pth')], timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].startswith(
        'error: FileNotFoundError: checkpoint not found:')
    # a port in use: one clear line
    from mmfocus.app.cli import bind
    sock = bind('127.0.0.1', 0)
    try:
        with pytest.raises(OSError, match='cannot listen on 127.0.0.1:.*'
                           'choose another --port'):
            bind('127.0.0.1', sock.getsockname()[1])
    finally:
        sock.close()


def doc_commands():
    """The app commands of docs/en/user_guides/app.md's first bash block,
    as argument lists after ``python``."""
    import shlex
    doc = osp.join(ROOT, 'docs', 'en', 'user_guides', 'app.md')
    text = open(doc, encoding='utf-8').read()
    block = re.search(r'```bash\n(.*?)```', text, re.S).group(1)
    return [shlex.split(line)[1:] for line in
            block.replace('\\\n', ' ').splitlines() if line.strip()]


def test_documented_commands_serve(tmp_path):
    cmds = doc_commands()
    assert [c[:2] for c in cmds] == [['-m', 'mmfocus.app'],
                                     ['tools/app.py', '--config'],
                                     ['tools/app.py', '--cfg-options']]
    for i, argv in enumerate(cmds):
        tool = argv[:2] if argv[0] == '-m' else argv[:1]
        # the documented options, then --port 0 (a free port) last
        a = start_app(tmp_path / str(i), [], tool=tool + argv[len(tool):]
                      + ['--port', '0'])
        try:
            s, info = a.json('/api/info')
            assert s == 200
            assert info['config'] == 'configs/focus/vit-demo_demo-sbi.py'
            assert info['checkpoint'] == \
                'checkpoints/focus_vit-demo_demo-sbi.pth'
            s, body = a.json(f'/api/jobs?demo={FACE}', method='POST')
            st = wait(a, body['id'])
            assert st['state'] == 'done', st
            # posterior maps (the demo config) are the Eq. 9 maps; min-max
            # maps (--cfg-options model.map_norm=minmax) are not
            same = st['result']['view']['maps_identical']
            assert same == ('--cfg-options' not in argv)
        finally:
            assert a.stop() == 0
