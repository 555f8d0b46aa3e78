"""tools/report.py on the work dir of a tiny tools/test.py run (the commands
of docs/en/useful_tools/report.md, section "A test run, then its report"),
and the page loaded in a real headless Chromium (Debian's ``chromium``;
install it with ``bash .dev_scripts/setup_browser.sh``): no console error,
the right number of gallery items after the page's JS ran, sorting /
filtering, a screenshot."""
import functools
import glob
import json
import os.path as osp
import re
import shutil

import cv2
import numpy as np
import pytest
from report_helpers import ROOT, chromium, doc_commands, file_url
from report_helpers import in_tmp as _in_tmp
from report_helpers import needs_chromium, report_cli

CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')
# the test-run commands of the doc page (its experiment commands are run by
# test_report_experiments.py)
TEST_SECTION = 'A test run, then its report'


@pytest.fixture(scope='module')
def tmp_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp('report'))


@pytest.fixture(scope='module')
def test_run(tiny_demo_data, tmp_root, random_checkpoint, run_tool):
    """The doc's tools/test.py command, run on the tiny FoCus (random
    weights) and the tiny demo data: metrics log, maps, predictions."""
    ckpt = random_checkpoint(CFG, osp.join(tmp_root, 'tiny.pth'))
    [(args, _)] = doc_commands('tools/test.py', TEST_SECTION)
    assert args[:2] == ['configs/focus/vit-demo_demo-sbi.py',
                        'checkpoints/focus_vit-demo_demo-sbi.pth']
    args = [CFG, ckpt] + _in_tmp(args[2:], tmp_root)
    run_tool(['tools/test.py'] + args + [
        '--cfg-options',
        f'test_dataloader.dataset.data_root={tiny_demo_data}'], check=True)
    work = args[args.index('--work-dir') + 1]
    assert args[args.index('--out') + 1] == osp.join(work, 'preds.json')
    return work


@pytest.fixture(scope='module')
def doc_reports(test_run, tmp_root, run_tool, cli):
    """The doc's tools/report.py commands, in order: the first as a user
    runs it (a subprocess), the others through the tool's ``cli_main`` in
    this process (the same code minus the imports)."""
    results = []
    for i, (args, comment) in enumerate(doc_commands('tools/report.py',
                                                       TEST_SECTION)):
        args = _in_tmp(args, tmp_root)
        if i == 0:
            proc = run_tool(['tools/report.py'] + args)
            results.append((args, comment, proc.returncode, proc.stdout,
                            proc.stderr))
        else:
            results.append((args, comment) + cli(args))
    return results


@pytest.fixture(scope='module')
def report(doc_reports, test_run):
    return osp.join(test_run, 'report.html')


def test_doc_commands_run(doc_reports, test_run):
    preds = json.load(open(osp.join(test_run, 'preds.json')))
    assert len(doc_reports) == 4
    for args, comment, rc, out, err in doc_reports:
        if 'refused' in comment:
            lines = err.strip().splitlines()
            assert rc == 1 and len(lines) == 1, err
            assert 'report.html' in lines[0] and '--overwrite' in lines[0]
        else:
            assert rc == 0, err[-3000:]
            assert 'report written' in out
    top = osp.join(test_run, 'top.html')
    n = int(doc_reports[1][0][doc_reports[1][0].index('--max-items') + 1])
    assert len(_items(open(top, encoding='utf-8').read())) == \
        min(n, len(preds))
    assert len(_items(open(osp.join(test_run, 'report.html'),
                           encoding='utf-8').read())) == len(preds)


def _items(html_text):
    m = re.search(r'<script type="application/json" id="items-data">(.*?)'
                  r'</script>', html_text, re.S)
    return json.loads(m.group(1))


def test_report_is_self_contained_and_complete(test_run, report):
    text = open(report, encoding='utf-8').read()
    preds = json.load(open(osp.join(test_run, 'preds.json')))
    items = _items(text)
    assert len(items) == len(preds) > 0
    # every face has its ManipulationMapHook overlay, as data URIs
    assert all(it['map'] and it['map'].startswith('data:image/jpeg;base64,')
               for it in items)
    assert all(it['face'].startswith('data:image/') for it in items)
    by_path = {p['img_path']: p for p in preds}
    for it in items:
        p = by_path[it['path']]
        assert it['score'] == p['fake_score'] and it['gt'] == p['gt_label']
    # nothing is fetched: no URL in any src/href, and a CSP forbids it
    assert not re.search(r'(src|href)\s*=\s*["\']?(https?:|//)', text)
    assert "default-src 'none'" in text
    # the metrics table holds the test run's metrics (mmengine's JSON log)
    log = glob.glob(osp.join(test_run, '2*', '2*.json'))
    assert len(log) == 1
    metrics = json.loads(open(log[0]).read().strip().splitlines()[-1])
    for key in ('forgery/auc', 'forgery/eer', 'map/paired_auc'):
        assert f'<th>{key}</th><td class="v">{metrics[key]:.4f}</td>' in text
    # per region type / prior values are folded below the headline table
    head, folded = text.split('<table class="metrics" id="metrics-more">')
    assert '<th>map/prior_gaussian/pixel_auc</th>' in folded.split(
        '</table>')[0]
    assert '<th>map/prior_gaussian/pixel_auc</th>' not in head
    assert text.count('src="data:image/png;base64,') >= 2  # ROC + histogram


@pytest.fixture(scope='module')
def cli(load_tool):
    """``cli(argv)``: tools/report.py's command line in this process
    (one-line errors included): ``(exit code, stdout, stderr)``."""
    return functools.partial(report_cli, load_tool)


def test_report_options_and_refusals(test_run, report, tmp_path, cli):
    # a bounded gallery, spread over the score ranking
    out = str(tmp_path / 'small.html')
    assert cli([test_run, '--out', out, '--max-items', '5'])[0] == 0
    items = _items(open(out, encoding='utf-8').read())
    scores = sorted(p['fake_score'] for p in
                    json.load(open(osp.join(test_run, 'preds.json'))))
    assert len(items) == 5
    got = sorted(it['score'] for it in items)
    assert got[0] == scores[0] and got[-1] == scores[-1]
    # --overwrite replaces it
    code, text, _ = cli([test_run, '--out', out, '--overwrite'])
    assert code == 0 and len(_items(open(out, encoding='utf-8').read())) \
        == len(scores)
    # a dir without predictions: one clear line
    empty = tmp_path / 'empty'
    empty.mkdir()
    code, _, err = cli([str(empty)])
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1
    assert 'no predictions dump' in lines[0] and '--out' in lines[0]
    # two dumps: ambiguous, the user must choose
    shutil.copy(osp.join(test_run, 'preds.json'), empty / 'a.json')
    shutil.copy(osp.join(test_run, 'preds.json'), empty / 'b.json')
    code, _, err = cli([str(empty)])
    assert code == 1 and 'a.json' in err and '--preds' in err
    # --preds chooses; no maps and no test log there: cards without maps,
    # metrics computed from the predictions (checked against sklearn)
    from sklearn.metrics import roc_auc_score
    preds = json.load(open(empty / 'a.json'))
    out = str(tmp_path / 'chosen.html')
    code, _, err = cli([str(empty), '--preds', str(empty / 'a.json'),
                        '--out', out])
    assert code == 0, err
    text = open(out, encoding='utf-8').read()
    assert all(it['map'] is None for it in _items(text))
    assert 'computed from a.json' in text
    auc = 100 * roc_auc_score([p['gt_label'] for p in preds],
                              [p['fake_score'] for p in preds])
    assert f'<th>forgery/auc</th><td class="v">{auc:.4f}</td>' in text
    # --maps-dir and --metrics name the test run's files
    [log] = glob.glob(osp.join(test_run, '2*', '2*.json'))
    code, _, err = cli([str(empty), '--preds', str(empty / 'a.json'),
                        '--maps-dir', osp.join(test_run, 'maps', 'test'),
                        '--metrics', log, '--out', out, '--overwrite'])
    assert code == 0, err
    text = open(out, encoding='utf-8').read()
    assert all(it['map'] for it in _items(text)) and log in text


# ---------------------------------------------------------------- browser

_url = file_url


@needs_chromium
def test_console_check_catches_page_errors(tmp_path):
    """The console check is not vacuous: a broken page is caught."""
    bad = tmp_path / 'bad.html'
    bad.write_text('<html><body><script>notDefined();</script></body></html>')
    _, console = chromium(['--dump-dom'], _url(bad), tmp_path)
    assert any('Uncaught ReferenceError' in ln for ln in console), console


@needs_chromium
def test_report_in_headless_chromium(test_run, report, tmp_path):
    preds = json.load(open(osp.join(test_run, 'preds.json')))
    dom, console = chromium(['--dump-dom'], _url(report), tmp_path)
    assert console == []
    assert re.search(r'<body[^>]*data-ready="1"', dom)  # the JS ran through
    cards = re.findall(r'<figure class="item[^"]*"[^>]*>', dom)
    assert len(cards) == len(preds)
    shown = [float(x) for x in re.findall(
        r'<figure class="item[^"]*"[^>]*data-score="([^"]+)"', dom)]
    assert shown == sorted(shown, reverse=True)  # default: score, high first
    assert f'{len(preds)} of {len(preds)} shown' in dom

    # filter + sort from the URL fragment: fakes only, low score first
    dom, console = chromium(['--dump-dom'],
                            _url(report, '#sort=score-asc&filter=fake'),
                            tmp_path)
    assert console == []
    fakes = [p for p in preds if p['gt_label'] == 1]
    shown = [float(x) for x in re.findall(
        r'<figure class="item[^"]*"[^>]*data-score="([^"]+)"', dom)]
    assert len(shown) == len(fakes) > 0
    assert shown == sorted(p['fake_score'] for p in fakes)
    cards = re.findall(r'<figure class="item([^"]*)"', dom)
    assert all('gt-fake' in c for c in cards)

    # errors filter agrees with the threshold rule
    dom, _ = chromium(['--dump-dom'], _url(report, '#filter=errors'),
                      tmp_path)
    n_err = sum((p['fake_score'] > 0.5) != bool(p['gt_label'])
                for p in preds)
    assert len(re.findall(r'<figure class="item', dom)) == n_err

    # a screenshot: a real, non-blank rendering
    shot = tmp_path / 'shot.png'
    _, console = chromium([f'--screenshot={shot}', '--window-size=1200,1600',
                           '--hide-scrollbars'], _url(report), tmp_path)
    assert console == []
    img = cv2.imread(str(shot))
    assert img is not None and img.shape[:2] == (1600, 1200)
    assert img.std() > 20
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 500  # plots, faces


def test_gallery_items_carry_the_true_mask(tmp_path):
    """A fake's card shows face | true mask | map: the report reads
    ``mask_path`` from the predictions dump."""
    from mmfocus.visualization.report import build_report_html
    face = np.full((32, 32, 3), 100, np.uint8)
    mask = np.zeros((32, 32), np.uint8)
    mask[8:16, 8:24] = 255
    cv2.imwrite(str(tmp_path / 'real.png'), face)
    cv2.imwrite(str(tmp_path / 'fake.png'), face)
    cv2.imwrite(str(tmp_path / 'mask.png'), mask)
    preds = [dict(img_path=str(tmp_path / 'real.png'), gt_label=0,
                  pred_label=0, fake_score=0.2, video_id='a', method='real',
                  mask_path=None),
             dict(img_path=str(tmp_path / 'fake.png'), gt_label=1,
                  pred_label=1, fake_score=0.8, video_id='a_sbi-mouth',
                  method='sbi-mouth', mask_path=str(tmp_path / 'mask.png'))]
    with open(tmp_path / 'predictions.json', 'w') as f:
        json.dump(preds, f)
    text = build_report_html(str(tmp_path),
                             preds_file=str(tmp_path / 'predictions.json'))
    data = re.search(r'<script type="application/json" id="items-data">'
                     r'(.*?)</script>', text, re.S)
    items = {it['name']: it for it in json.loads(data.group(1))}
    assert items['fake.png']['mask'].startswith('data:image/')
    assert items['real.png']['mask'] is None
    assert "'true mask '" in text
