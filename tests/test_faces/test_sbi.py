import numpy as np
import pytest

from mmfocus.faces.sbi import (BLEND_RATIOS, blend, make_blend_mask,
                               make_source, self_blend)


def test_mask_range_and_support(astronaut_face):
    img, lmk = astronaut_face
    for seed in range(12):
        fake, mask = self_blend(img, lmk, np.random.default_rng(seed))
        assert mask.shape == img.shape[:2] and mask.dtype == np.float32
        assert mask.min() >= 0 and mask.max() <= 1
        # peak of the blurred hull equals one of the blend ratios
        assert np.isclose(mask.max(), BLEND_RATIOS, atol=1e-5).any()
        # the nose bridge is inside every hull variant; the bottom crop
        # corners (beside the neck) are untouched (the 'extended' hull may
        # reach the top edge)
        x, y = np.round(lmk[29]).astype(int)
        assert mask[y, x] > 0.2 * mask.max()
        assert mask[-1, 0] == 0 and mask[-1, -1] == 0
        zero = mask == 0
        np.testing.assert_array_equal(fake[zero], img[zero])
        inside = mask > 0.5 * mask.max()
        diff = np.abs(fake.astype(int) - img.astype(int))[inside].mean()
        assert diff > 1.0, (seed, diff)


def test_blend_identity(astronaut_face):
    img, lmk = astronaut_face
    fake, mask, src = self_blend(img, lmk, np.random.default_rng(3),
                                 return_source=True)
    m = mask.astype(np.float64)[..., None]
    ref = m * src.astype(np.float64) + (1 - m) * img.astype(np.float64)
    assert np.abs(fake - ref).max() <= 0.5 + 1e-3
    # the same generator stream through the public building blocks
    rng = np.random.default_rng(3)
    mask2 = make_blend_mask(img.shape[:2], lmk, rng)
    src2 = make_source(img, lmk, rng)
    np.testing.assert_array_equal(mask2, mask)
    np.testing.assert_array_equal(src2, src)
    np.testing.assert_array_equal(blend(img, src2, mask2), fake)
    # source really is altered (colour/sharpness/shift), over the face
    face = mask > 0
    assert np.abs(src.astype(int) - img.astype(int))[face].mean() > 2


def test_deterministic_per_seed(astronaut_face):
    img, lmk = astronaut_face
    a = self_blend(img, lmk, np.random.default_rng(7))
    b = self_blend(img, lmk, np.random.default_rng(7))
    c = self_blend(img, lmk, np.random.default_rng(8))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_small_crop_and_options(astronaut_face):
    import cv2
    img, lmk = astronaut_face
    small = cv2.resize(img, (112, 112), interpolation=cv2.INTER_AREA)
    fake, mask = self_blend(small, lmk / 2, np.random.default_rng(0),
                            hull_types=('inner', ), blend_ratios=(1.0, ))
    assert fake.shape == small.shape and mask.shape == (112, 112)
    assert np.isclose(mask.max(), 1.0)
    # 'inner' hull excludes the jaw line: chin point lies outside
    x, y = np.round(lmk[8] / 2).astype(int)
    assert mask[min(y + 4, 111), x] < 0.5


def test_bad_input(astronaut_face):
    img, lmk = astronaut_face
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match='uint8'):
        self_blend(img.astype(np.float32), lmk, rng)
    with pytest.raises(TypeError, match='Generator'):
        self_blend(img, lmk, 0)
    with pytest.raises(TypeError, match='unknown'):
        self_blend(img, lmk, rng, sigma=3)
    with pytest.raises(ValueError, match='hull type'):
        self_blend(img, lmk, rng, hull_types=('nose', ))


def test_local_region_masks_cover_their_part(astronaut_face):
    """Each local region's mask sits on its landmarks (hand-checked
    geometry on a real, dlib-landmarked face) and is smaller than a
    whole-face mask; the fake changes only where the mask is on."""
    from mmfocus.faces.sbi import LOCAL_REGIONS, region_polygons
    img, lmk = astronaut_face
    whole = self_blend(img, lmk, np.random.default_rng(0),
                       blend_ratios=(1.0, ), hull_types=('full', ))[1]
    parts = dict(eyes=lmk[36:48], nose=lmk[27:36], mouth=lmk[48:60],
                 brows=lmk[17:27])
    for region in LOCAL_REGIONS:
        for seed in range(3):
            fake, mask = self_blend(img, lmk, np.random.default_rng(seed),
                                    region=region, blend_ratios=(1.0, ))
            assert np.isclose(mask.max(), 1.0, atol=1e-5)
            on = mask > 0.5
            assert 0 < on.sum() < 0.8 * (whole > 0.5).sum(), region
            zero = mask == 0
            np.testing.assert_array_equal(fake[zero], img[zero])
            # the landmarks of the part are (mostly) inside the mask
            if region in parts:
                pts = np.round(parts[region]).astype(int)
                inside = mask[pts[:, 1], pts[:, 0]] > 0.2
                assert inside.mean() >= 0.7, (region, inside.mean())
            # every polygon of the region lies within the face crop
            for poly in region_polygons(lmk, region,
                                        np.random.default_rng(seed)):
                assert poly.shape[1] == 2 and len(poly) >= 3
    # image sides: the left cheek's mass is left of the nose, and v.v.
    nose_x = lmk[30, 0]
    for region, sign in (('cheek-left', -1), ('cheek-right', 1)):
        mask = self_blend(img, lmk, np.random.default_rng(1), region=region,
                          blend_ratios=(1.0, ))[1]
        xs = np.nonzero(mask > 0.5)[1]
        assert sign * (xs.mean() - nose_x) > 0, region
    with pytest.raises(ValueError, match='blend region'):
        self_blend(img, lmk, np.random.default_rng(0), region='ear')
    with pytest.raises(ValueError, match='68 landmarks'):
        self_blend(img, lmk[:20], np.random.default_rng(0), region='eyes')


def test_face_region_keeps_the_old_random_stream(astronaut_face):
    """region='face' draws exactly what the whole-face SBI always drew."""
    img, lmk = astronaut_face
    a = self_blend(img, lmk, np.random.default_rng(9))
    b = self_blend(img, lmk, np.random.default_rng(9), region='face')
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


# ------------------------------------------------------- single-cue sources
def test_sharpness_only_source_leaves_a_flat_image_unchanged():
    # blur and unsharp masking of a constant image are the image itself;
    # any colour change would move it (LUT shifts of 4-20 levels)
    img = np.full((48, 48, 3), 120, np.uint8)
    lmk = np.stack(np.meshgrid(np.linspace(10, 38, 17),
                               np.linspace(10, 38, 4)), -1).reshape(-1, 2)
    for seed in range(6):
        src = make_source(img, lmk[:68], np.random.default_rng(seed),
                          cues=('sharpness', ))
        np.testing.assert_array_equal(src, img)
        moved = make_source(img, lmk[:68], np.random.default_rng(seed),
                            cues=('colour', ))
        assert np.abs(moved.astype(int) - img).max() > 0


def test_colour_only_source_is_pointwise(astronaut_face):
    # no blur, no shift: the source of a pixel-permuted face is the permuted
    # source (LUTs and HSV conversions act on each pixel alone). Up to one
    # grey level, which the brightness LUT can stretch to two: OpenCV's
    # vectorised uint8 HSV -> BGR rounds by lane position (4.14: 18 % of the
    # pixels of a permuted random image differ by 1), while a blur or a
    # shift would move values by tens of levels.
    import cv2
    img, lmk = astronaut_face
    perm = np.random.default_rng(0).permutation(img.shape[0] * img.shape[1])
    shuffled = img.reshape(-1, 3)[perm].reshape(img.shape)
    for seed in range(4):
        a = make_source(img, lmk, np.random.default_rng(seed),
                        cues=('colour', ))
        b = make_source(shuffled, lmk, np.random.default_rng(seed),
                        cues=('colour', ))
        diff = np.abs(a.reshape(-1, 3)[perm].reshape(img.shape).astype(int)
                      - b.astype(int))
        assert diff.max() <= 2, (seed, diff.max())
        assert (diff > 0).mean() < 0.25, seed
    # the LUT-only path (no HSV round trip) is exactly pointwise
    lut = np.ascontiguousarray(np.arange(256, dtype=np.uint8)[::-1])
    np.testing.assert_array_equal(
        cv2.LUT(img, lut).reshape(-1, 3)[perm],
        cv2.LUT(shuffled, lut).reshape(-1, 3))


def test_sharpness_only_source_is_the_blur_or_unsharp_mask(astronaut_face):
    import cv2
    img, lmk = astronaut_face
    blurred = cv2.GaussianBlur(img, (0, 0), 2.0)
    kinds = set()
    for seed in range(8):
        src = make_source(img, lmk, np.random.default_rng(seed),
                          cues=('sharpness', ), sharpness_sigma=(2.0, 2.0))
        if np.array_equal(src, blurred):
            kinds.add('blur')
            continue
        # unsharp: img + a * (img - blurred), a in [0.5, 1.5]
        d = img.astype(np.float64) - blurred
        inside = (src > 0) & (src < 255) & (np.abs(d) > 4)
        a = ((src.astype(np.float64) - img)[inside] / d[inside])
        assert 0.45 < np.median(a) < 1.55
        kinds.add('unsharp')
    assert kinds == {'blur', 'unsharp'}


def test_bad_cues_are_refused(astronaut_face):
    from mmfocus.datasets.transforms import SelfBlend
    img, lmk = astronaut_face
    with pytest.raises(ValueError, match='cues'):
        make_source(img, lmk, np.random.default_rng(0), cues=())
    with pytest.raises(ValueError, match='cues'):
        self_blend(img, lmk, np.random.default_rng(0), cues=('noise', ))
    with pytest.raises(ValueError, match='sharpness_sigma'):
        SelfBlend(sharpness_sigma=(2.0, 1.0))
    fake, mask = self_blend(img, lmk, np.random.default_rng(0),
                            cues='sharpness', sharpness_sigma=(3.0, 3.0))
    assert fake.shape == img.shape and mask.max() > 0
