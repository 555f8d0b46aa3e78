"""tools/experiments/map_protocol.py end to end on tiny demo data (few
iterations), its resume, and the pieces (schedule scaling, map quality of
map files, spec errors)."""
import json
import math
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join('tools', 'experiments', 'map_protocol.py')
DEMO_SPEC = osp.join(ROOT, 'configs', 'experiments', 'map_protocol_demo.py')
CROSS = ['CDF', 'WDF', 'DFDC', 'DFDCp']


def _run(args):
    env = dict(os.environ, PYTHONPATH=ROOT, CUDA_VISIBLE_DEVICES='',
               OMP_NUM_THREADS='1')
    env.pop('MMFOCUS_DEBUG', None)
    proc = subprocess.run([sys.executable, TOOL] + args, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, (f'{args} failed:\n{proc.stdout[-3000:]}\n'
                                  f'{proc.stderr[-3000:]}')
    return proc.stdout + proc.stderr


def _mtimes(root, sub):
    out = {}
    for dirpath, _, names in os.walk(osp.join(root, sub)):
        if osp.join(os.sep, 'runs') in dirpath:
            continue  # the test runners' own logs
        for n in names:
            if n.endswith(('.pth', '.json')):
                p = osp.join(dirpath, n)
                out[osp.relpath(p, root)] = os.stat(p).st_mtime_ns
    return out


def _table_rows(md):
    return [[c.strip() for c in ln.strip().strip('|').split('|')]
            for ln in md.splitlines() if ln.startswith('| ')]


def test_protocol_end_to_end_and_resume(tiny_demo_data, tmp_path):
    work = str(tmp_path / 'protocol')
    # 1. the documented quick command on the tiny data: three sources
    _run([DEMO_SPEC, '--quick', '--sources', 'none', 'ssim', 'pixdiff',
          '--work-dir', work, '--no-progress', '--cfg-options',
          f'data_root={tiny_demo_data}'])
    res = json.load(open(osp.join(work, 'results.json')))
    assert [r['name'] for r in res['rows']] == ['none', 'ssim', 'pixdiff']
    assert res['cross_datasets'] == CROSS
    for r in res['rows']:
        ind = r['in_dataset']
        assert math.isfinite(ind['acc']) and math.isfinite(ind['auc'])
        assert 0 <= ind['auc'] <= 100
        assert all(r['cross'][c] == {'status': 'n/a (not configured)'}
                   for c in CROSS)
    md = open(osp.join(work, 'results.md')).read()
    rows = _table_rows(md)
    assert rows[0] == ['Map source', 'Demo Acc', 'Demo AUC'] + [
        f'{c} AUC' for c in CROSS]
    assert [r[0] for r in rows[1:]] == ['none (no map)', 'SSIM',
                                       'pixel difference']
    assert rows[1][3:] == ['n/a (not configured)'] * 4
    float(rows[1][1]), float(rows[1][2])  # numbers, not placeholders
    # the no-map baseline has no map branch, the others predict maps
    assert 'map/paired_auc' not in res['rows'][0]['in_dataset']['metrics']
    assert 'map/paired_auc' in res['rows'][1]['in_dataset']['metrics']

    mq = json.load(open(osp.join(work, 'map_quality.json')))
    assert [r['name'] for r in mq['rows']] == ['ssim', 'pixdiff']
    assert mq['no_map'] == ['none (no map)']
    for r in mq['rows']:
        m = r['metrics']
        for k in ('paired_auc', 'pixel_auc', 'iou@0.5', 'pointing_game'):
            assert math.isfinite(m[k]) and 0 <= m[k] <= 1, (r['name'], k)
        assert m['num_pairs'] == m['num_fakes'] > 0
        # comparison maps are zero where fake and twin agree: they mark the
        # blended region far above a position prior
        assert m['paired_auc'] > 0.9
    for prior in ('prior_mean_mask', 'prior_gaussian'):
        assert mq['priors'][prior]['paired_auc'] == 0.5
        assert mq['priors'][prior]['pixel_auc'] > 0.5
    md = open(osp.join(work, 'map_quality.md')).read()
    overall, per_region = md.split('## Per region type')
    rows = _table_rows(overall)
    assert rows[0][:8] == ['Map source', 'paired map-AUC',
                           '95 % interval (pairs)', 'pixel AUC / image',
                           'F1@0.5', 'IoU@0.5', 'pixel AUC pooled',
                           'pointing game']
    assert [r[0] for r in rows[1:]] == [
        'SSIM', 'pixel difference', '*position prior: mean test mask*',
        '*position prior: centred Gaussian*',
        '*position prior: mean train mask of the region type*']
    assert rows[3][1] == rows[4][1] == rows[5][1] == '0.500'
    # the interval over the pairs brackets the mean; priors have none
    lo, hi = (float(v) for v in rows[1][2].strip('[]').split(','))
    assert lo <= float(rows[1][1]) <= hi
    assert rows[3][2] == rows[4][2] == rows[5][2] == ''
    # the per-region-type table: whole-face 'sbi', local types, 'local'
    region_rows = _table_rows(per_region)
    assert region_rows[0][0] == 'Map source' and 'sbi' in region_rows[0]
    assert region_rows[0][-1] == 'local'
    assert [r[0] for r in region_rows[1:3]] == ['SSIM', 'pixel difference']
    for r in mq['rows']:
        groups = [k[:-len('/num_fakes')] for k in r['metrics']
                  if k.endswith('/num_fakes') and k.count('/') == 1]
        assert 'sbi' in groups and 'local' in groups
        assert sum(r['metrics'][f'{g}/num_fakes'] for g in groups
                   if g != 'local') == r['metrics']['num_fakes']

    # 2. rerun two of the sources with cross-dataset sets added (a stand-in
    # set and a missing one): nothing is regenerated, retrained or retested,
    # only the new cross-dataset tests run; pixdiff, finished before, stays
    # in the tables
    before = _mtimes(work, 'train')
    before.update(_mtimes(work, 'maps'))
    before.update(_mtimes(work, 'test'))
    assert any(k.endswith('iter_2.pth') for k in before)
    spec = tmp_path / 'spec_cross.py'
    spec.write_text(
        f'_base_ = [{DEMO_SPEC!r}]\n'
        f'cross_datasets = [dict(name="CDF", data_root={tiny_demo_data!r}, '
        'ann_file="test.json"),\n'
        '    dict(name="WDF", data_root="no/such/dir", ann_file="t.json")]\n')
    out = _run([str(spec), '--quick', '--sources', 'none', 'ssim',
                '--work-dir', work, '--no-progress',
                '--cfg-options', f'data_root={tiny_demo_data}'])
    assert 'training 2 iterations' not in out
    assert out.count('trained (') == 2
    after = _mtimes(work, 'train')
    after.update(_mtimes(work, 'maps'))
    after.update(_mtimes(work, 'test'))
    assert {k: after[k] for k in before} == before
    new = sorted(set(after) - set(before))
    assert new == [f'test/{n}/CDF.json' for n in ('none', 'ssim')]
    res2 = json.load(open(osp.join(work, 'results.json')))
    assert [r['name'] for r in res2['rows']] == ['none', 'ssim', 'pixdiff']
    for r, r2 in zip(res['rows'], res2['rows']):
        assert r2['in_dataset'] == r['in_dataset']
        if r['name'] == 'pixdiff':
            assert r2['cross']['CDF'] == {'status': 'n/a (not run)'}
        else:  # the same test set as CDF: the same AUC
            assert r2['cross']['CDF']['auc'] == pytest.approx(
                r['in_dataset']['auc'])
        assert r2['cross']['WDF']['status'].startswith('n/a (not found: ')
        assert r2['cross']['DFDC']['status'] == 'n/a (not configured)'
    mq2 = json.load(open(osp.join(work, 'map_quality.json')))
    assert mq2['rows'] == mq['rows']


def _write_pairs(root, n=6, size=32, seed=0):
    """Hand-made test split: n real faces, their fakes with square masks."""
    rng = np.random.default_rng(seed)
    entries = []
    for i in range(n):
        real = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
        mask = np.zeros((size, size), np.uint8)
        y, x = 4 + 3 * i % 12, 6 + 2 * i % 10
        mask[y:y + 12, x:x + 14] = 255
        for sub, img in (('real', real), ('fake', real), ('mask', mask)):
            os.makedirs(osp.join(root, sub), exist_ok=True)
            cv2.imwrite(osp.join(root, sub, f'{i}.png'), img)
        entries += [
            dict(img_path=f'real/{i}.png', gt_label=0, mask_path=None,
                 pair_path=None),
            dict(img_path=f'fake/{i}.png', gt_label=1,
                 mask_path=f'mask/{i}.png', pair_path=f'real/{i}.png')
        ]
    ann = dict(metainfo=dict(classes=['real', 'fake']), data_list=entries)
    with open(osp.join(root, 'test.json'), 'w') as f:
        json.dump(ann, f)
    return entries


def _protocol(root, work):
    from mmfocus.experiments import MapProtocol
    spec = Config(
        dict(work_dir=work, data_root=root, train_ann='test.json',
             in_dataset=dict(name='Hand', ann_file='test.json'),
             sources=[dict(name='mask', config='unused.py',
                           maps='annotation')],
             map_quality=dict(ann_file='test.json', map_size=(32, 32))))
    return MapProtocol(spec, log=lambda m: None)


def test_map_quality_of_map_files_known_answers(tmp_path):
    """Maps read from PNG files, twins found by pair_path: a perfect map
    scores 1, a random one ~0.5, a position prior exactly 0.5 (paired)."""
    root, work = str(tmp_path / 'data'), str(tmp_path / 'work')
    entries = _write_pairs(root)
    proto = _protocol(root, work)
    rng = np.random.default_rng(1)
    maps = osp.join(str(tmp_path), 'maps')
    os.makedirs(maps)
    prior = np.zeros((32, 32), np.uint8)
    prior[8:24, 8:24] = 200  # the same map for every face
    cv2.imwrite(osp.join(maps, 'prior.png'), prior)
    for i in range(len(entries) // 2):
        for kind in ('real', 'fake'):
            cv2.imwrite(osp.join(maps, f'rand_{kind}{i}.png'),
                        rng.integers(0, 256, (32, 32), dtype=np.uint8))

    def evaluate(map_of):
        samples = proto._samples(entries, root, map_of)
        return proto._evaluate(samples, priors=False)

    perfect = evaluate(lambda e: e['mask_path'] and osp.join(
        root, e['mask_path']))
    assert perfect['paired_auc'] == 1.0 and perfect['pixel_auc'] == 1.0
    assert perfect['pointing_game'] == 1.0 and perfect['num_pairs'] == 6
    assert perfect['iou@0.5'] == pytest.approx(1.0)
    rand = evaluate(lambda e: osp.join(maps, 'rand_' + e['img_path'].replace(
        '/', '')))
    assert abs(rand['paired_auc'] - 0.5) < 0.06
    assert abs(rand['pixel_auc'] - 0.5) < 0.06
    same = evaluate(lambda e: osp.join(maps, 'prior.png'))
    assert same['paired_auc'] == 0.5 and same['pixel_auc'] > 0.5

    # the table: the annotation-mask row is perfect, the priors pair at 0.5
    assert proto.map_quality(proto.spec.sources[0])['metrics'] == perfect
    q = proto.collect_map_quality()
    assert q['rows'][0]['metrics']['paired_auc'] == 1.0
    assert q['priors']['prior_mean_mask']['paired_auc'] == 0.5
    assert q['priors']['prior_gaussian']['paired_auc'] == 0.5


def test_scale_schedule():
    from mmengine.optim.scheduler import CosineAnnealingLR, LinearLR

    from mmfocus.experiments import scale_schedule
    cfg = Config.fromfile(
        osp.join(ROOT, 'configs', 'multitask', 'efb4-fpn_demo-sbi.py'))
    scale_schedule(cfg, 30)
    assert cfg.train_cfg.max_iters == 30
    lin, cos = cfg.param_scheduler
    assert (lin.begin, lin.end) == (0, 3)  # 30 of 300 iterations
    assert (cos.begin, cos.end, cos.T_max) == (3, 30, 27)
    assert cfg.default_hooks.checkpoint.interval == 30
    assert cfg.train_cfg.val_interval == 30
    scale_schedule(cfg, 2)
    lin, cos = cfg.param_scheduler
    assert lin.begin < lin.end <= cos.begin < cos.end == 2
    import torch
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.)
    for s, cls in ((lin, LinearLR), (cos, CosineAnnealingLR)):
        kw = {k: v for k, v in s.items() if k != 'type'}
        cls(opt, **kw)  # mmengine accepts the scaled milestones
    with pytest.raises(ValueError):
        scale_schedule(cfg, 0)


def test_training_resumes_and_finished_is_skipped(tmp_path, monkeypatch):
    """A finished training is not rerun; an interrupted one resumes."""
    import mmfocus.experiments.map_protocol.runner as protocol_mod
    from mmfocus.experiments import MapProtocol, load_protocol_spec
    root = str(tmp_path / 'data')
    _write_pairs(root)
    os.link(osp.join(root, 'test.json'), osp.join(root, 'train.json'))
    spec = load_protocol_spec(DEMO_SPEC, [f'data_root={root}'])
    proto = MapProtocol(spec, sources=['none'], work_dir=str(tmp_path / 'w'),
                        log=lambda m: None)
    calls = []

    class FakeRunner:

        def __init__(self, cfg):
            self.cfg = cfg

        def train(self):
            calls.append(bool(self.cfg.get('resume')))
            open(osp.join(self.cfg.work_dir, 'iter_40.pth'), 'wb').close()

    monkeypatch.setattr(protocol_mod, 'build_runner',
                        lambda cfg: FakeRunner(cfg))
    work = proto.path('train', 'none')
    os.makedirs(work)
    open(osp.join(work, 'last_checkpoint'), 'w').write('iter_20.pth')
    assert proto.train(proto._source('none')) == osp.join(work,
                                                         'iter_40.pth')
    assert calls == [True]  # resumed
    proto.train(proto._source('none'))
    assert calls == [True]  # finished: not trained again


def test_spec_errors(tmp_path):
    from mmfocus.experiments import MapProtocol, load_protocol_spec
    with pytest.raises(FileNotFoundError, match='protocol spec not found'):
        load_protocol_spec(str(tmp_path / 'nope.py'))
    bad = tmp_path / 'bad.py'
    bad.write_text(f'_base_ = [{DEMO_SPEC!r}]\nsources = []\n')
    with pytest.raises(ValueError, match='bad.py: "sources"'):
        load_protocol_spec(str(bad))
    bad.write_text(f'_base_ = [{DEMO_SPEC!r}]\n'
                   'sources = [dict(name="x", config="c.py", '
                   'maps=dict(source="nosuch"))]\n')
    with pytest.raises(ValueError, match='nosuch'):
        load_protocol_spec(str(bad))
    with pytest.raises(KeyError):  # strict overrides
        load_protocol_spec(DEMO_SPEC, ['no_such_key=1'])
    spec = load_protocol_spec(DEMO_SPEC)
    with pytest.raises(ValueError, match='unknown source'):
        MapProtocol(spec, sources=['none', 'typo'])
    # a map model whose checkpoint is missing: listed, not invented
    spec.sources[2]['maps']['checkpoint'] = 'no/such.pth'
    proto = MapProtocol(spec, work_dir=str(tmp_path / 'w'))
    assert proto.skip_reason(spec.sources[2]) == ('n/a (needs checkpoint: '
                                                  'no/such.pth)')
    assert proto.skip_reason(spec.sources[0]) is None


def test_protocol_two_cpu_processes(tiny_demo_data, tmp_path):
    """The multi-GPU launch (torch.distributed.run, --launcher pytorch) on
    two CPU processes (gloo): maps shared by the ranks, DDP training and
    testing, one set of tables written by rank 0."""
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    work = str(tmp_path / 'ddp')
    env = dict(os.environ, PYTHONPATH=ROOT, CUDA_VISIBLE_DEVICES='',
               OMP_NUM_THREADS='1')
    env.pop('MMFOCUS_DEBUG', None)
    proc = subprocess.run(
        [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node',
         '2', '--master_port', str(port), TOOL, DEMO_SPEC, '--quick',
         '--sources', 'ssim', '--work-dir', work, '--no-progress',
         '--launcher', 'pytorch', '--cfg-options',
         f'data_root={tiny_demo_data}'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert 'maps written by 2 processes' in out
    assert out.count('# Map quality against the true masks') == 1
    res = json.load(open(osp.join(work, 'results.json')))
    assert [r['name'] for r in res['rows']] == ['ssim']
    assert math.isfinite(res['rows'][0]['in_dataset']['auc'])
    mq = json.load(open(osp.join(work, 'map_quality.json')))
    assert mq['rows'][0]['metrics']['num_pairs'] > 0
    assert osp.isfile(osp.join(work, 'train', 'ssim', 'iter_2.pth'))


@pytest.mark.parametrize('name', ['demo', 'ffpp-c40', 'ffpp-c23'])
def test_shipped_specs_load(name):
    """Every shipped spec loads; each source's config and each map-model
    config it names exists (checkpoints may be trained later)."""
    from mmfocus.experiments import MapProtocol, load_protocol_spec
    spec = load_protocol_spec(
        osp.join(ROOT, 'configs', 'experiments', f'map_protocol_{name}.py'))
    proto = MapProtocol(spec, log=lambda m: None)
    for src in spec.sources:
        assert osp.isfile(osp.join(ROOT, src['config'].format(
            name=src['name']))), src
        if isinstance(src.get('maps'), dict) and src['maps'].get('config'):
            assert osp.isfile(osp.join(ROOT, src['maps']['config']))
    sets = proto.test_sets()
    assert [t['name'] for t in sets[1:]] == CROSS
    names = [s['name'] for s in spec.sources]
    assert names[0] == 'none' and {'focus', 'ssim', 'pixdiff',
                                   'pixdiff-thr0.1', 'gradcam', 'scorecam',
                                   'attention'} <= set(names)


def test_map_sources_spec_quality_only_with_faithfulness(
        tiny_demo_data, tmp_path, random_checkpoint):
    """The map-sources comparison (configs/experiments/map_sources_demo.py)
    on tiny data: no evaluation model is trained, every source gets map
    quality per region type, and deletion/insertion faithfulness is scored
    by the configured detector (a random-weight tiny FoCus here), beside
    random maps."""
    from mmfocus.experiments import MapProtocol, load_protocol_spec
    tiny = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')
    ckpt = random_checkpoint(tiny)
    spec = load_protocol_spec(
        osp.join(ROOT, 'configs', 'experiments', 'map_sources_demo.py'),
        [f'data_root={tiny_demo_data}', f'work_dir={tmp_path / "w"}'])
    assert spec.train_models is False
    spec.faithfulness.update(num_fakes=3, steps=4,
                             scorer=dict(config=tiny, checkpoint=ckpt))
    for s in spec.sources:  # as on a fresh clone, whatever work_dirs holds
        if s['name'] == 'no-cl':
            s['maps']['checkpoint'] = str(tmp_path / 'not_trained.pth')
    out = MapProtocol(spec, sources=['ssim', 'no-cl'], progress=False,
                      log=lambda s: None).run()
    assert not osp.exists(tmp_path / 'w' / 'train')  # nothing trained
    mq = json.load(open(out['map_quality_json']))
    rows = {r['name']: r for r in mq['rows']}
    # the -CL checkpoint is not shipped (its own training): an honest n/a
    assert rows['no-cl']['status'].startswith('n/a (needs')
    f = rows['ssim']['faithfulness']
    assert f['num_fakes'] == 3 and f['scorer'] == ckpt
    for k in ('deletion_auc', 'insertion_auc', 'random_deletion_auc',
              'random_insertion_auc'):
        assert 0 <= f[k] <= 1
    md = open(out['map_quality_md']).read()
    assert '## Faithfulness (deletion / insertion)' in md
    assert '## Per region type' in md
    assert rows['ssim']['metrics']['local/num_fakes'] > 0


def test_baseline_map_sources_in_the_protocol(tiny_demo_data, tmp_path,
                                            random_checkpoint):
    """configs/experiments/map_sources_baselines_demo.py: the MaDD, GFFD,
    UIA-ViT and Face X-ray map sources (random-weight tiny models) get map-quality rows
    like any other source."""
    from mmfocus.experiments import MapProtocol, load_protocol_spec
    spec = load_protocol_spec(
        osp.join(ROOT, 'configs', 'experiments',
                 'map_sources_baselines_demo.py'),
        [f'data_root={tiny_demo_data}', f'work_dir={tmp_path / "w"}'])
    spec.faithfulness = None
    names = [s['name'] for s in spec.sources]
    assert {'focus', 'madd', 'gffd', 'uia-vit', 'face-xray'} <= set(names)
    for s in spec.sources:
        if s['name'] in ('madd', 'gffd', 'uia-vit', 'face-xray'):
            s['maps']['checkpoint'] = random_checkpoint(
                osp.join(ROOT, s['maps']['config']))
    names = ['madd', 'gffd', 'uia-vit', 'face-xray']
    out = MapProtocol(spec, sources=names, progress=False,
                      log=lambda s: None).run()
    rows = {r['name']: r for r in json.load(
        open(out['map_quality_json']))['rows']}
    for name in names:
        m = rows[name]['metrics']
        assert 0 <= m['paired_auc'] <= 1 and m['num_pairs'] > 0, name


@pytest.mark.parametrize('name', ['detectors_demo', 'table3_ffpp-c40',
                                  'table3_ffpp-c23'])
def test_detector_specs_expand_to_table3_rows(name):
    """Rows = detector x map source; every row's config exists; a detector
    on other data (LTTD on clips) keeps its own data and maps."""
    from mmfocus.experiments import MapProtocol, load_protocol_spec
    path = osp.join(ROOT, 'configs', 'experiments', f'map_protocol_{name}.py'
                    if name == 'detectors_demo' else f'{name}.py')
    spec = load_protocol_spec(path)
    dets = [d['name'] for d in spec.detectors]
    assert dets == ['efb4-fpn', 'pcl', 'caddm', 'lttd']
    maps = sorted({s['map_name'] for s in spec.sources
                   if s['detector'] != 'lttd'})
    assert len(spec.sources) == len(dets) * len(maps)
    assert [s['name'] for s in spec.sources][:2] == [
        f'efb4-fpn/{maps_ordered}' for maps_ordered in
        [s['map_name'] for s in spec.sources[:2]]]
    for s in spec.sources:
        assert osp.isfile(osp.join(ROOT, s['config'])), s['config']
        assert s['label'].startswith(
            dict(zip(dets, [d.get('label') for d in spec.detectors]))[
                s['detector']] + ' / ')
        if s['detector'] == 'lttd':
            assert s['map_name'] == s['name'] and 'clips' in s['data_root']
        else:
            assert s['map_name'] == s['name'].split('/', 1)[1]
    proto = MapProtocol(spec, log=lambda m: None)
    assert [proto.maps_row(s) for s in spec.sources] == [
        s['detector'] == 'efb4-fpn' for s in spec.sources]
    # selecting a map source selects its row of every detector
    proto = MapProtocol(spec, sources=['pixdiff'], log=lambda m: None)
    assert proto.selected == [f'{d}/pixdiff' for d in dets]
    lttd = next(s for s in spec.sources if s['detector'] == 'lttd')
    sets = proto.test_sets(lttd)
    assert sets[0]['data_root'] == lttd['data_root']
    assert all(t.get('status') for t in sets[1:])  # no clip cross sets


def test_detector_spec_errors(tmp_path):
    from mmfocus.experiments import load_protocol_spec
    for bad, msg in [("[dict(name='a')]", 'needs "name" and "config"'),
                     ("[dict(name='a/b', config='x.py')]", 'has a "/"'),
                     ("dict(name='a')", 'must be a list')]:
        spec = tmp_path / 'bad.py'
        spec.write_text(f"_base_ = ['{DEMO_SPEC}']\ndetectors = {bad}\n")
        with pytest.raises(ValueError, match=msg):
            load_protocol_spec(str(spec))


def test_detectors_protocol_end_to_end(tiny_demo_data, tmp_path):
    """Every Table III detector (frames and clips) trained on no map and on
    pixel-difference maps, tested, tabulated (quick: 2 iterations)."""
    from mmfocus.faces.demo_clips import build_demo_clips
    clips = str(tmp_path / 'clips')
    build_demo_clips(tiny_demo_data, clips, clip_len=8, size=32,
                     verbose=False)
    base = osp.join(ROOT, 'configs', 'experiments',
                    'map_protocol_detectors_demo.py')
    dets = [dict(d) for d in Config.fromfile(base).detectors]
    dets[-1]['data_root'] = clips  # LTTD on the tiny clips
    spec = tmp_path / 'spec.py'
    spec.write_text(f"_base_ = ['{base}']\ndata_root = '{tiny_demo_data}'\n"
                    f"detectors = {dets!r}\n")
    work = str(tmp_path / 'work')
    _run([str(spec), '--quick', '--sources', 'none', 'pixdiff',
          '--work-dir', work, '--no-progress'])
    res = json.load(open(osp.join(work, 'results.json')))
    names = [r['name'] for r in res['rows']]
    assert names == [f'{d}/{s}' for d in ('efb4-fpn', 'pcl', 'caddm', 'lttd')
                     for s in ('none', 'pixdiff')]
    for r in res['rows']:
        assert r['in_dataset'].get('auc') is not None, r
        assert r['detector'] == r['name'].split('/')[0]
    md = open(osp.join(work, 'results.md')).read()
    assert '| Detector / map source |' in md
    assert '| PCL (ResNet-18) / pixel difference |' in md
    # LTTD's maps are its clips' own (one per frame), the frame models share
    assert osp.isfile(osp.join(work, 'maps', 'train', 'lttd', 'pixdiff',
                               'train_maps-pixdiff.json'))
    assert osp.isfile(osp.join(work, 'maps', 'train', 'pixdiff',
                               'train_maps-pixdiff.json'))
    assert not osp.isdir(osp.join(work, 'maps', 'train', 'pcl'))
    mq = json.load(open(osp.join(work, 'map_quality.json')))
    assert [r['label'] for r in mq['rows']] == ['pixel difference']
