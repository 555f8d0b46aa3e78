"""init_model / inference_model on the tiny FoCus (random weights)."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from mmfocus.apis import inference_model, init_model
from mmfocus.apis.inference import (ImageTooLargeError, model_input_size,
                                    read_image, to_bgr_uint8)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')
PHOTO = osp.join(ROOT, 'demo', 'faces', 'photos', '2008_001009.jpg')


@pytest.fixture(scope='module')
def model(tiny_ckpt):
    return init_model(TINY_CFG, tiny_ckpt)


@pytest.fixture(scope='module')
def crops():
    img = cv2.imread(PHOTO)
    return [np.ascontiguousarray(img[60:220, 100:260]),
            np.ascontiguousarray(img[180:330, 90:240]),
            np.ascontiguousarray(img[0:64, 0:64])]


def test_init_model_eval_cfg_and_weights(model, tiny_ckpt):
    assert not model.training
    assert model.cfg.model.backbone.img_size == 32
    assert model_input_size(model) == (32, 32)
    saved = torch.load(tiny_ckpt, weights_only=True)['state_dict']
    own = model.state_dict()
    assert set(saved) == set(own)
    assert all(torch.equal(saved[k], own[k]) for k in saved)
    # a fresh random model differs: the checkpoint was really loaded
    torch.manual_seed(123)
    fresh = init_model(TINY_CFG).state_dict()
    assert any(not torch.equal(fresh[k], own[k]) for k in own)


def test_init_model_mismatch_and_missing(tiny_ckpt, tmp_path):
    state = torch.load(tiny_ckpt, weights_only=True)['state_dict']
    key = next(k for k in state if k.endswith('weight'))
    bad = dict(state)
    bad[key] = torch.zeros(3, 3)
    bad.pop(next(iter(bad)))
    bad['not.a.key'] = torch.zeros(1)
    path = str(tmp_path / 'bad.pth')
    torch.save({'state_dict': bad}, path)
    with pytest.raises(RuntimeError) as e:
        init_model(TINY_CFG, path)
    msg = str(e.value)
    assert 'bad.pth' in msg and 'does not match' in msg
    assert 'missing' in msg and 'unexpected' in msg and 'shape' in msg
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        init_model(TINY_CFG, str(tmp_path / 'nope.pth'))
    with pytest.raises(FileNotFoundError, match='nope.py'):
        init_model(str(tmp_path / 'nope.py'))
    with pytest.raises(KeyError, match='model.backbone.nope'):
        init_model(TINY_CFG, cfg_options={'model.backbone.nope': 1})


def test_inference_model_shapes_and_ranges(model, crops):
    preds = inference_model(model, crops)
    assert len(preds) == 3
    for ds in preds:
        assert ds.pred_score.shape == (2, )
        assert torch.all((ds.pred_score >= 0) & (ds.pred_score <= 1))
        assert float(ds.pred_score.sum()) == pytest.approx(1, abs=1e-5)
        for field in ('pred_map', 'pred_map_fake'):
            m = ds.get(field)
            assert m.shape == (32, 32)
            assert float(m.min()) >= 0 and float(m.max()) <= 1
        assert ds.pred_score.device.type == 'cpu'


def test_inference_model_matches_manual_preprocessing(model, crops):
    """The pipeline = cv2 INTER_AREA resize to the model input, then the
    model's own data_preprocessor; batching does not mix samples."""
    preds = inference_model(model, crops, batch_size=2)
    for crop, ds in zip(crops, preds):
        x = cv2.resize(crop, (32, 32), interpolation=cv2.INTER_AREA)
        x = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))
        with torch.no_grad():
            [ref] = model.test_step(dict(inputs=[x]))
        torch.testing.assert_close(ds.pred_score, ref.pred_score,
                                   rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(ds.pred_map, ref.pred_map, rtol=1e-4,
                                   atol=1e-5)


def test_inference_model_paths_and_converted_images(model, crops, tmp_path):
    crop = crops[0]
    path = str(tmp_path / 'crop.png')
    cv2.imwrite(path, crop)
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    bgra = cv2.cvtColor(crop, cv2.COLOR_BGR2BGRA)
    bgra[..., 3] = 7
    by_path, by_array, by_grey, by_bgra = inference_model(
        model, [path, crop, grey, bgra])
    torch.testing.assert_close(by_path.pred_score, by_array.pred_score)
    torch.testing.assert_close(by_bgra.pred_score, by_array.pred_score)
    [grey3] = inference_model(model, [cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)])
    torch.testing.assert_close(by_grey.pred_score, grey3.pred_score)
    with pytest.raises(TypeError, match='face 0'):
        inference_model(model, [123])


def test_to_bgr_uint8_conversions():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = to_bgr_uint8(grey)
    assert out.shape == (3, 4, 3) and (out == grey[..., None]).all()
    bgra = np.dstack([grey, grey + 1, grey + 2, np.full_like(grey, 9)])
    np.testing.assert_array_equal(to_bgr_uint8(bgra), bgra[..., :3])
    u16 = np.array([[0, 257, 65535]], np.uint16)
    np.testing.assert_array_equal(to_bgr_uint8(u16)[..., 0], [[0, 1, 255]])
    f = np.array([[0., .5, 1.]], np.float32)
    np.testing.assert_array_equal(to_bgr_uint8(f)[..., 0], [[0, 128, 255]])
    with pytest.raises(ValueError, match='my.png'):
        to_bgr_uint8(np.zeros((0, 3)), name='my.png')
    with pytest.raises(ValueError, match='channels'):
        to_bgr_uint8(np.zeros((4, 4, 5), np.uint8))


def test_read_image_errors(tmp_path):
    empty = tmp_path / 'empty.jpg'
    empty.write_bytes(b'')
    with pytest.raises(ValueError, match='zero-byte.*empty.jpg'):
        read_image(str(empty))
    text = tmp_path / 'notes.jpg'
    text.write_text('not an image')
    with pytest.raises(ValueError, match='notes.jpg'):
        read_image(str(text))
    with pytest.raises(FileNotFoundError, match='missing.png'):
        read_image(str(tmp_path / 'missing.png'))
    big = tmp_path / 'big.png'
    cv2.imwrite(str(big), np.zeros((10, 300), np.uint8))
    with pytest.raises(ImageTooLargeError, match='300 x 10'):
        read_image(str(big), max_side=200)
    assert read_image(str(big), max_side=None).shape == (10, 300, 3)


def test_read_image_applies_exif_orientation(tmp_path):
    from PIL import Image
    a = np.zeros((20, 40, 3), np.uint8)
    a[:, :10] = 255  # a white stripe on the left
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = str(tmp_path / 'rotated.jpg')
    Image.fromarray(a).save(path, exif=exif.tobytes(), quality=95)
    img = read_image(path)
    assert img.shape == (40, 20, 3)
    assert img[:8].mean() > 200 and img[-20:].mean() < 50  # stripe on top
