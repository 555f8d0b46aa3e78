"""tools/analysis/seed_table.py: the figures of a row and the mean ± sd
row, on hand-made metrics; argument errors."""
import numpy as np
import pytest


def _metrics(auc, paired, local_pix):
    m = {'forgery/auc': auc, 'forgery/acc': 70.0, 'map/paired_auc': paired,
         'map/num_pairs': 8, 'map/local/pixel_auc_per_image': local_pix,
         'map/local/f1@0.5': 0.2, 'map/f1@0.5': 0.3,
         'map/local/num_fakes': 4}
    for p, v in (('prior_mean_mask', 0.8), ('prior_gaussian', 0.7),
                 ('prior_region', 0.9)):
        m[f'map/local/{p}/pixel_auc_per_image'] = v
    return m


PREDS = [dict(fake_score=s, gt_label=y)
         for s, y in ((0.1, 0), (0.2, 0), (0.9, 1), (0.8, 1), (0.3, 0),
                      (0.7, 1))]


def test_rows_and_spread(load_tool):
    mod = load_tool('tools/analysis/seed_table.py')
    r1 = mod.row_of(_metrics(80., 0.7, 0.5), PREDS, 200)
    assert r1['local_prior'] == 0.9  # the best of the three priors
    assert (r1['auc_lo'], r1['auc_hi']) == (100., 100.)  # separable scores
    assert r1['num_pairs'] == 8 and r1['num_faces'] == 6
    r2 = mod.row_of(_metrics(90., 0.8, 0.6), PREDS, 200)
    md = mod.markdown({'s0': r1, 's1': r2}, 'T', 'cmd')
    last = md.strip().splitlines()[-3]
    assert last.startswith('| mean ± sd (2)')
    sd = np.std([80., 90.], ddof=1)
    assert f'85.00 ± {sd:.2f}' in last and '0.750 ± 0.071' in last
    assert '0.700 (8 pairs)' in md and '`cmd`' in md  # no interval given
    m = dict(_metrics(80., 0.7, 0.5), **{'map/paired_auc_ci_low': 0.61,
                                         'map/paired_auc_ci_high': 0.79})
    md = mod.markdown({'s0': mod.row_of(m, PREDS, 50)}, 'T', 'cmd')
    assert '0.700 [0.610, 0.790] (8 pairs)' in md


def test_branch_heads_get_their_own_auc(load_tool):
    from sklearn.metrics import roc_auc_score
    mod = load_tool('tools/analysis/seed_table.py')
    sob = (0.4, 0.6, 0.5, 0.3, 0.2, 0.9)  # partly wrong ranking
    preds = [dict(p, fake_score_rgb=p['fake_score'], fake_score_sobel=s)
             for p, s in zip(PREDS, sob)]
    r = mod.row_of(_metrics(80., 0.7, 0.5), preds, 200)
    labels = [p['gt_label'] for p in PREDS]
    assert r['branches']['rgb']['auc'] == pytest.approx(100.)
    assert r['branches']['sobel']['auc'] == pytest.approx(
        100 * roc_auc_score(labels, sob))
    lo, hi = r['branches']['sobel']['lo'], r['branches']['sobel']['hi']
    assert lo <= r['branches']['sobel']['auc'] <= hi
    md = mod.markdown({'s0': r}, 'T', 'cmd')
    assert '| checkpoint | rgb | sobel |' in md and '| s0 | 100.00' in md
    # without branch scores there is no branch table
    assert 'branch head' not in mod.markdown(
        {'s0': mod.row_of(_metrics(80., 0.7, 0.5), PREDS, 50)}, 'T', 'c')


def test_bad_checkpoint_specs(load_tool, tmp_path):
    mod = load_tool('tools/analysis/seed_table.py')
    with pytest.raises(ValueError, match='NAME=PATH'):
        mod._named(['a.pth'])
    with pytest.raises(FileNotFoundError, match='checkpoint not found'):
        mod._named([f'a={tmp_path}/missing.pth'])
    f = tmp_path / 'x.pth'
    f.write_bytes(b'')
    with pytest.raises(ValueError, match='twice'):
        mod._named([f'a={f}', f'a={f}'])


def test_tool_tests_each_checkpoint_and_writes_the_table(
        load_tool, random_checkpoint, tiny_demo_data, tmp_path, monkeypatch,
        capsys):
    import json
    import os.path as osp
    cfg = 'tests/data/focus_tiny.py'
    ckpt = random_checkpoint(cfg)
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '')
    mod = load_tool('tools/analysis/seed_table.py')
    work = str(tmp_path / 'seeds')
    opts = [f'test_dataloader.dataset.data_root={tiny_demo_data}',
            'model.map_norm=minmax']
    rows = mod.main([cfg, f'a={ckpt}', f'b={ckpt}', '--work-dir', work,
                     '--bootstrap', '50', '--title', 'tiny',
                     '--cfg-options', *opts])
    assert set(rows) == {'a', 'b'}
    assert rows['a']['auc'] == rows['b']['auc']  # the same checkpoint twice
    # the log says where the outputs went
    out = capsys.readouterr().out
    assert f'wrote {osp.join(work, "table.md")} and ' in out
    md = open(osp.join(work, 'table.md')).read()
    assert md.startswith('# tiny') and '| mean ± sd (2)' in md
    assert f'{rows["a"]["auc"]:.2f} ± 0.00' in md
    saved = json.load(open(osp.join(work, 'table.json')))
    assert saved['cfg_options'] == opts and saved['rows']['a']['checkpoint']
    # a finished test is reused, not rerun
    stamp = osp.getmtime(osp.join(work, 'a', 'predictions.json'))
    mod.main([cfg, f'a={ckpt}', '--work-dir', work, '--cfg-options', *opts])
    assert osp.getmtime(osp.join(work, 'a', 'predictions.json')) == stamp
