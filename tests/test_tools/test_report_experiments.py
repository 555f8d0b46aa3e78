"""tools/report.py on the work dirs of the map protocol and the robustness
study: the commands of docs/en/useful_tools/report.md (section "A map
protocol or a robustness study, then its report") run on the tiny demo data
(the protocol's --quick smoke run of three sources; the robustness study on
the tiny FoCus with random weights). Every table cell of the page is checked
against the Markdown and the JSON the tool wrote; the sheets and the plot
are data URIs; the page is self-contained; refusals and the error on an
unrelated dir are one line. Both pages are loaded in a real headless
Chromium: no console message, the JS ran, the filters and the sort of the URL
fragment show the right rows, a screenshot is not blank."""
import base64
import functools
import json
import math
import os.path as osp
import re
from html.parser import HTMLParser

import cv2
import numpy as np
import pytest
from report_helpers import (ROOT, chromium, doc_commands, file_url, in_tmp,
                            needs_chromium, no_external_urls, report_cli)

SECTION = 'A map protocol or a robustness study, then its report'
CFG = osp.join(ROOT, 'tests', 'data', 'focus_tiny.py')
PRIORS = ('prior_mean_mask', 'prior_gaussian', 'prior_region')


# ------------------------------------------------------------ page parsing
class Page(HTMLParser):
    """The tables (by id: header cells and body rows, each cell's text and
    attributes), the figures and the body attributes of a page (the
    written file or Chromium's DOM dump)."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tables, self.figures, self.body = {}, [], {}
        self._table = self._row = self._cell = None
        self._in_head = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'body':
            self.body = a
        elif tag == 'table' and a.get('id'):
            self._table = dict(attrs=a, header=[], rows=[])
            self.tables[a['id']] = self._table
        elif self._table is not None and tag == 'thead':
            self._in_head = True
        elif self._table is not None and tag == 'tbody':
            self._in_head = False
        elif self._table is not None and tag == 'tr':
            self._row = dict(attrs=a, cells=[])
            if not self._in_head:
                self._table['rows'].append(self._row)
        elif self._row is not None and tag in ('td', 'th'):
            self._cell = dict(attrs=a, text='')
            (self._table['header'] if self._in_head else
             self._row['cells']).append(self._cell)
        elif tag == 'figure' and 'sheet' in a.get('class', ''):
            self.figures.append(dict(attrs=a, imgs=[]))
        elif tag == 'img' and self.figures and a.get('src'):
            self.figures[-1]['imgs'].append(a)

    def handle_endtag(self, tag):
        if tag == 'table':
            self._table = None
        elif tag == 'tr':
            self._row = None
        elif tag in ('td', 'th'):
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell['text'] += data

    def texts(self, tid):
        """The table as Markdown-like text rows: header first."""
        t = self.tables[tid]
        return [[c['text'] for c in t['header']]] + [
            [c['text'] for c in r['cells']] for r in t['rows']]

    def shown(self, tid):
        return [r for r in self.tables[tid]['rows']
                if 'hidden' not in r['attrs']]


def md_tables(path):
    """Every Markdown table of a file: a list of rows of cell texts (the
    separator line dropped, italic and code cells unwrapped)."""
    tables, cur = [], None
    for ln in open(path, encoding='utf-8').read().splitlines():
        if ln.startswith('|'):
            cells = [c.strip().strip('*').strip('`') for c in
                     ln.strip().strip('|').split('|')]
            if all(re.fullmatch(r':?-+:?', c) for c in cells):
                continue
            if cur is None:
                cur = []
                tables.append(cur)
            cur.append(cells)
        else:
            cur = None
    return tables


def value(cell):
    v = cell['attrs'].get('data-v')
    return None if v is None else float(v)


def close(a, b):
    return a == b or (a is not None and b is not None and
                      math.isclose(a, b, rel_tol=0, abs_tol=1e-12))


def data_uri_images(page):
    """Every figure image, decoded from its ``data:image/png`` URI."""
    out = []
    for f in page.figures:
        for img in f['imgs']:
            src = img['src']
            assert src.startswith('data:image/png;base64,'), src[:40]
            buf = np.frombuffer(base64.b64decode(src.split(',', 1)[1]),
                                np.uint8)
            out.append(cv2.imdecode(buf, cv2.IMREAD_COLOR))
    return out


# --------------------------------------------------------------- fixtures
@pytest.fixture(scope='module')
def tmp_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp('report_exp'))


@pytest.fixture(scope='module')
def cli(load_tool):
    return functools.partial(report_cli, load_tool)


@pytest.fixture(scope='module')
def doc():
    """The doc section's commands: tool -> [(args, comment)]."""
    return {t: doc_commands(t, SECTION) for t in (
        'tools/experiments/map_protocol.py', 'tools/analysis/robustness.py',
        'tools/report.py')}


@pytest.fixture(scope='module')
def protocol_dir(doc, tiny_demo_data, tmp_root, run_tool):
    """The doc's protocol command (the demo spec, --quick, three sources)
    on the tiny data, plus a sheet of map_sheet.py in the work dir."""
    [(args, _)] = doc['tools/experiments/map_protocol.py']
    assert args[0] == 'configs/experiments/map_protocol_demo.py'
    assert '--quick' in args
    work = osp.join(tmp_root, 'map_protocol_demo_quick')
    run_tool(['tools/experiments/map_protocol.py'] + args + [
        '--work-dir', work, '--no-progress', '--cfg-options',
        f'data_root={tiny_demo_data}'], check=True)
    # a sheet as tools/visualization/map_sheet.py writes it (same function)
    from mmfocus.visualization.sheet import map_sheet
    ann = json.load(open(osp.join(tiny_demo_data, 'test.json')))
    picks = [next(e['img_path'] for e in ann['data_list']
                  if e.get('method') == m) for m in ('sbi-eyes', 'sbi-brows')]
    map_sheet(osp.join(tiny_demo_data, 'test.json'),
              osp.join(work, 'sheets', 'eyes_brows.png'),
              maps={'SSIM': osp.join(work, 'maps', 'test', 'ssim',
                                     'test_maps-ssim.json')},
              images=picks, tile=32, log=lambda m: None)
    return work


@pytest.fixture(scope='module')
def robust_dir(doc, tiny_demo_data, tmp_root, run_tool, random_checkpoint):
    """The doc's robustness command, the tiny FoCus (random weights) for the
    demo checkpoint."""
    [(args, _)] = doc['tools/analysis/robustness.py']
    assert args[:2] == ['configs/focus/vit-demo_demo-sbi.py',
                        'checkpoints/focus_vit-demo_demo-sbi.pth']
    ckpt = random_checkpoint(CFG, osp.join(tmp_root, 'tiny.pth'))
    args = [CFG, ckpt] + in_tmp(args[2:], tmp_root)
    run_tool(['tools/analysis/robustness.py'] + args + [
        '--device', 'cpu', '--no-progress', '--cfg-options',
        f'test_dataloader.dataset.data_root={tiny_demo_data}'], check=True)
    return args[args.index('--out-dir') + 1]


@pytest.fixture(scope='module')
def doc_reports(doc, protocol_dir, robust_dir, tmp_root, run_tool, cli):
    """The doc's tools/report.py commands in order: the first as a user
    runs it (a subprocess), the others in this process."""
    out = []
    for i, (args, comment) in enumerate(doc['tools/report.py']):
        args = in_tmp(args, tmp_root)
        if i == 0:
            p = run_tool(['tools/report.py'] + args)
            out.append((args, comment, p.returncode, p.stdout, p.stderr))
        else:
            out.append((args, comment) + cli(args))
    return out


@pytest.fixture(scope='module')
def protocol_page(doc_reports, protocol_dir):
    return osp.join(protocol_dir, 'report.html')


@pytest.fixture(scope='module')
def robust_page(doc_reports, robust_dir):
    return osp.join(robust_dir, 'report.html')


# ------------------------------------------------------------------ tests
def test_doc_commands_run(doc_reports, protocol_dir, robust_dir):
    assert len(doc_reports) == 4
    for args, comment, rc, out, err in doc_reports:
        if 'refused' in comment:
            lines = err.strip().splitlines()
            assert rc == 1 and len(lines) == 1, err
            assert 'no map-protocol tables' in lines[0], lines
        else:
            assert rc == 0, err[-3000:]
            assert 'report written' in out
    assert '(protocol,' in doc_reports[0][3]
    assert '(robustness,' in doc_reports[2][3]
    # --max-sheets 2 --max-px 200: two sheets, downscaled, the rest named
    small = open(osp.join(protocol_dir, 'small.html'),
                 encoding='utf-8').read()
    page = Page(small)
    assert len(page.figures) == 2
    assert all(max(im.shape[:2]) <= 200 for im in data_uri_images(page))
    assert 'downscaled from' in small and 'sheets left out (--max-sheets 2)' \
        in small


def test_protocol_page_holds_the_tables(protocol_dir, protocol_page):
    text = open(protocol_page, encoding='utf-8').read()
    page = Page(text)
    res = json.load(open(osp.join(protocol_dir, 'results.json')))
    mq = json.load(open(osp.join(protocol_dir, 'map_quality.json')))
    # the cells of the tool's Markdown, table by table
    [md_res] = md_tables(osp.join(protocol_dir, 'results.md'))
    assert page.texts('results') == md_res
    md_mq = md_tables(osp.join(protocol_dir, 'map_quality.md'))
    assert page.texts('map-quality') == md_mq[0]
    assert page.texts('region-matrix') == md_mq[1]
    assert len(md_mq) == 2  # no faithfulness in this spec
    assert 'faithfulness' not in page.tables
    # every number in the JSON, at full precision, in its row
    rows = {r['attrs']['data-name']: r for r in
            page.tables['results']['rows']}
    for r in res['rows']:
        cells = rows[r['name']]['cells']
        assert rows[r['name']]['attrs']['data-f-source'] == r['name']
        assert value(cells[1]) == r['in_dataset']['acc']
        assert value(cells[2]) == r['in_dataset']['auc']
        assert [c['text'] for c in cells[3:]] == [
            r['cross'][c]['status'] for c in res['cross_datasets']]
    keys = ['paired_auc', 'paired_auc_ci_low', 'pixel_auc_per_image',
            'f1@0.5', 'iou@0.5', 'pixel_auc', 'pointing_game', 'num_fakes',
            'num_pairs']
    rows = {r['attrs']['data-name']: r for r in
            page.tables['map-quality']['rows']}
    metrics = {r['name']: r['metrics'] for r in mq['rows']}
    metrics.update({k: mq['priors'][k] for k in PRIORS})
    assert set(rows) == set(metrics)
    for name, m in metrics.items():
        got = [value(c) for c in rows[name]['cells'][1:]]
        assert all(close(g, m.get(k)) for g, k in zip(got, keys)), name
        is_prior = name in PRIORS
        assert (rows[name]['attrs']['data-f-source'] == '*') == is_prior
    # per region type: one row per (source or prior, region type), every
    # map-quality column of that type
    groups = [c['text'] for c in page.tables['region-matrix']['header'][1:]]
    assert 'local' == groups[-1] and 'sbi-eyes' in groups
    long = page.tables['region-metrics']['rows']
    assert len(long) == len(groups) * len(metrics)
    for r in long:
        g = r['attrs']['data-f-region']
        m = metrics[r['attrs']['data-name']]
        assert r['cells'][1]['text'] == g
        got = [value(c) for c in r['cells'][2:]]
        assert all(close(v, m.get(f'{g}/{k}')) for v, k in zip(got, keys)), \
            (r['attrs'], g)
    # every test metric of each trained source, folded below the results
    folded = page.tables['results-metrics']
    for r in folded['rows']:
        name = r['cells'][0]['text']
        src = next(x for x in res['rows'] if x['label'] == name)
        for h, c in zip(folded['header'][1:], r['cells'][1:]):
            m = src['in_dataset']['metrics']
            assert close(value(c), m.get(h['text']))
            assert (c['text'] == 'nan') == (h['text'] not in m)
    # the run: spec and training schedule
    assert res['spec'] in text and res['training'] in text
    assert page.body['data-kind'] == 'map protocol'


def test_protocol_page_status_rows_and_faithfulness(protocol_dir, tmp_path,
                                                    cli):
    """Rows the quick run has not: a source skipped for its checkpoint, and
    the faithfulness table; the Markdown is made by the protocol's own
    functions (mmfocus.experiments.tables) from the same JSON."""
    from mmfocus.experiments.tables import (map_quality_markdown,
                                            results_markdown)
    res = json.load(open(osp.join(protocol_dir, 'results.json')))
    mq = json.load(open(osp.join(protocol_dir, 'map_quality.json')))
    skipped = 'n/a (needs checkpoint: work_dirs/x/iter_9.pth)'
    res['rows'].append(dict(name='focus', label='FoCus', maps={},
                            status=skipped))
    mq['rows'].append(dict(name='focus', label='FoCus', maps={},
                           status=skipped))
    mq['rows'][0]['faithfulness'] = dict(
        deletion_auc=0.4123, deletion_auc_std=0.05, random_deletion_auc=0.6,
        random_deletion_auc_std=0.01, insertion_auc=0.7,
        insertion_auc_std=0.02, random_insertion_auc=0.5,
        random_insertion_auc_std=0.03, num_fakes=3, scorer='tiny.pth')
    work = tmp_path / 'w'
    work.mkdir()
    for name, data, md in (('results', res, results_markdown),
                           ('map_quality', mq, map_quality_markdown)):
        (work / f'{name}.json').write_text(json.dumps(data))
        (work / f'{name}.md').write_text(md(data))
    code, _, err = cli([str(work)])
    assert code == 0, err
    page = Page(open(work / 'report.html', encoding='utf-8').read())
    [md_res] = md_tables(str(work / 'results.md'))
    assert page.texts('results') == md_res
    md_mq = md_tables(str(work / 'map_quality.md'))
    assert [page.texts(t) for t in ('map-quality', 'region-matrix',
                                    'faithfulness')] == md_mq
    row = page.tables['faithfulness']['rows'][0]
    assert value(row['cells'][1]) == 0.4123
    assert row['attrs']['data-f-source'] == mq['rows'][0]['name']
    # no test maps there: the page says so instead of a sheet
    assert page.figures == []
    assert 'no test-split maps' in open(work / 'report.html').read()


def test_protocol_page_sheets_and_self_contained(protocol_dir,
                                                 protocol_page):
    text = open(protocol_page, encoding='utf-8').read()
    page = Page(text)
    ann = json.load(open(osp.join(protocol_dir, 'maps', 'test', 'ssim',
                                  'test_maps-ssim.json')))
    methods = sorted({e['method'] for e in ann['data_list']
                      if e['gt_label'] == 1})
    # composed: one fake of every region type, one sheet per region type;
    # then the map_sheet.py sheet found in the work dir
    assert len(page.figures) == 1 + len(methods) + 1
    imgs = data_uri_images(page)
    assert all(im is not None and im.std() > 10 for im in imgs)
    tile = 64
    overview = imgs[0]
    assert overview.shape[1] == 4 + 4 * (tile + 4)  # face mask ssim pixdiff
    assert overview.shape[0] == 22 + len(methods) * (tile + 16 + 4)
    regions = [f['attrs']['data-f-region'] for f in page.figures]
    assert regions[1:-1] == [' '.join([m] + (['local'] if m.startswith(
        'sbi-') else [])) for m in methods]
    found = page.figures[-1]['attrs']
    assert found['data-f-source'] == 'ssim'  # its column SSIM is that source
    assert found['data-f-region'] == 'sbi-brows sbi-eyes local'
    sheet = cv2.imread(osp.join(protocol_dir, 'sheets', 'eyes_brows.png'))
    assert np.array_equal(imgs[-1], sheet)  # small: inline as it is
    # nothing is fetched: no URL, a CSP forbids it
    assert no_external_urls(text)
    assert "default-src 'none'" in text and 'Content-Security-Policy' in text


def test_robustness_page_holds_the_table_and_plot(robust_dir, robust_page):
    text = open(robust_page, encoding='utf-8').read()
    page = Page(text)
    res = json.load(open(osp.join(robust_dir, 'robustness.json')))
    per_level, table4 = md_tables(osp.join(robust_dir, 'robustness.md'))
    got = page.texts('auc-per-level')
    # the tool's columns, then the mean minus the clean AUC
    assert [r[:-1] for r in got] == per_level
    assert page.texts('table-iv') == table4
    rows = {r['attrs']['data-name']: r for r in
            page.tables['auc-per-level']['rows']}
    assert all(value(c) == res['clean_auc']
               for c in rows['clean']['cells'][1:-1])
    for t, v in res['types'].items():
        cells = rows[t]['cells']
        assert [value(c) for c in cells[1:-2]] == [
            v['auc'][str(lv)] for lv in res['levels']]
        assert value(cells[-2]) == v['mean_auc']
        assert close(value(cells[-1]), v['mean_auc'] - res['clean_auc'])
    t4 = page.tables['table-iv']['rows'][0]['cells']
    assert value(t4[-1]) == res['mean_auc']
    params = {r['cells'][0]['text']: [value(c) for c in r['cells'][2:]]
              for r in page.tables['params']['rows']}
    assert params['Blur'] == [7, 13] and params['Block'] == [16, 48]
    # the plot, pixel for pixel
    [plot] = data_uri_images(page)
    assert np.array_equal(plot, cv2.imread(osp.join(robust_dir,
                                                    'robustness.png')))
    assert res['config'] in text and res['checkpoint'] in text
    assert no_external_urls(text) and "default-src 'none'" in text


def test_refusals_and_unrelated_dirs(protocol_dir, robust_dir, tmp_path,
                                     cli):
    def one_line(args, *words):
        code, _, err = cli(args)
        lines = err.strip().splitlines()
        assert code == 1 and len(lines) == 1, err
        assert all(w in lines[0] for w in words), lines[0]
        return lines[0]

    # an existing report is kept
    one_line([protocol_dir], 'report.html', '--overwrite')
    one_line([robust_dir], 'report.html', '--overwrite')
    # a dir of something else: one line naming what was looked for
    other = tmp_path / 'other'
    other.mkdir()
    (other / 'notes.json').write_text('{"a": 1}')
    (other / 'plot.png').write_bytes(b'not a png')
    line = one_line([str(other)], 'nothing to report', 'no predictions dump',
                    'results.json', 'robustness.json')
    assert line.startswith('error: nothing to report in ')
    # a forced kind that the dir is not
    one_line([robust_dir, '--kind', 'protocol', '--out',
              str(tmp_path / 'x.html')], 'no map-protocol tables')
    one_line([protocol_dir, '--kind', 'test', '--out',
              str(tmp_path / 'x.html')], 'no predictions dump')
    # options of test pages only
    one_line([protocol_dir, '--kind', 'protocol', '--preds', 'p.json',
              '--out', str(tmp_path / 'x.html')], '--preds',
             'for test work dirs only')
    assert not osp.exists(tmp_path / 'x.html')
    # --overwrite replaces; --max-sheets 0 leaves the sheets out
    out = str(tmp_path / 'p.html')
    for extra in ([], ['--overwrite', '--max-sheets', '0']):
        code, msg, err = cli([protocol_dir, '--out', out] + extra)
        assert code == 0, err
    page = Page(open(out, encoding='utf-8').read())
    assert page.figures == [] and 'results' in page.tables


# ---------------------------------------------------------------- browser
def _grid(path):
    img = cv2.imread(str(path))
    assert img is not None and img.shape[:2] == (1600, 1300)
    return img


@needs_chromium
def test_protocol_page_in_headless_chromium(protocol_page, tmp_path):
    dom, console = chromium(['--dump-dom'], file_url(protocol_page),
                            tmp_path)
    assert console == []
    page = Page(dom)
    assert page.body.get('data-ready') == '1'  # the JS ran through
    n_sheets = len(page.figures)
    assert page.body['data-sheets-shown'] == str(n_sheets)
    assert page.tables['map-quality']['attrs']['data-shown'] == '5'

    # a source and a region type from the URL fragment, and a sort
    frag = '#source=ssim&region=sbi-eyes&sort=region-metrics:5:asc'
    dom, console = chromium(['--dump-dom'], file_url(protocol_page, frag),
                            tmp_path)
    assert console == []
    page = Page(dom)
    assert page.body.get('data-ready') == '1'
    shown = page.shown('results')
    assert [r['attrs']['data-name'] for r in shown] == ['ssim']
    names = [r['attrs']['data-name'] for r in page.shown('map-quality')]
    assert names == ['ssim'] + list(PRIORS)  # the priors stay
    rows = page.shown('region-metrics')
    assert sorted(r['attrs']['data-name'] for r in rows) == sorted(
        ['ssim'] + list(PRIORS))
    assert {r['cells'][1]['text'] for r in rows} == {'sbi-eyes'}
    # sorted by F1@0.5 (column 5), low first
    col = [float(r['cells'][5]['attrs']['data-v']) for r in rows]
    assert col == sorted(col)
    assert page.tables['region-metrics']['attrs']['data-sorted'] == '5:asc'
    head = page.tables['region-matrix']['header']
    assert [h['text'] for h in head if 'hidden' not in h['attrs']] == [
        'Map source', 'sbi-eyes']
    # the sheets that hold sbi-eyes: the overview, its own, the found one
    figs = [f for f in page.figures if 'hidden' not in f['attrs']]
    assert len(figs) == 3 and page.body['data-sheets-shown'] == '3'
    assert all('sbi-eyes' in f['attrs']['data-f-region'].split()
               for f in figs)

    # a screenshot: a real rendering, not blank
    shot = tmp_path / 'protocol.png'
    _, console = chromium([f'--screenshot={shot}', '--window-size=1300,1600',
                           '--hide-scrollbars'],
                          file_url(protocol_page, '#region=sbi-eyes'),
                          tmp_path)
    assert console == []
    img = _grid(shot)
    assert img.std() > 20
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 300


@needs_chromium
def test_robustness_page_in_headless_chromium(robust_page, robust_dir,
                                              tmp_path):
    res = json.load(open(osp.join(robust_dir, 'robustness.json')))
    dom, console = chromium(['--dump-dom'],
                            file_url(robust_page, '#type=blur'), tmp_path)
    assert console == []
    page = Page(dom)
    assert page.body.get('data-ready') == '1'
    assert [r['attrs']['data-name'] for r in page.shown('auc-per-level')] \
        == ['clean', 'blur']
    head = page.tables['table-iv']['header']
    assert [h['text'] for h in head if 'hidden' not in h['attrs']] == [
        'Clean', 'Blur', 'Avg']
    assert page.body['data-sheets-shown'] == '1'  # the plot stays
    # sort by mean AUC (column 3), high first
    dom, _ = chromium(['--dump-dom'],
                      file_url(robust_page, '#sort=auc-per-level:3:desc'),
                      tmp_path)
    rows = Page(dom).shown('auc-per-level')
    means = {t: v['mean_auc'] for t, v in res['types'].items()}
    means['clean'] = res['clean_auc']
    assert [r['attrs']['data-name'] for r in rows] == sorted(
        means, key=lambda t: -means[t])

    shot = tmp_path / 'robustness.png'
    _, console = chromium([f'--screenshot={shot}', '--window-size=1300,1600',
                           '--hide-scrollbars'], file_url(robust_page),
                          tmp_path)
    assert console == []
    img = _grid(shot)
    assert img.std() > 10
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 100  # the plot
