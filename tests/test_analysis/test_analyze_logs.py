"""tools/analysis/analyze_logs.py on hand-written mmengine JSON logs with
known values: a work dir with an interrupted run and its resume."""
import importlib.util
import json
import os
import os.path as osp
import re
import shlex

import cv2
import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DOC = osp.join(ROOT, 'docs', 'en', 'useful_tools', 'report.md')
TOOL = osp.join(ROOT, 'tools', 'analysis', 'analyze_logs.py')


def _tool():
    spec = importlib.util.spec_from_file_location('analyze_logs', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _cli(argv, capsys):
    """Run the tool's command line in this process (as ``python TOOL``
    would, one-line errors included): ``(exit code, stdout, stderr)``."""
    from mmfocus.utils.cli import cli_main
    tool = _tool()
    capsys.readouterr()
    result = None
    try:
        result = cli_main(tool.main)(argv)
        code = 0
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err, result


def _train(it, loss, time, data_time=0.1):
    # the keys mmengine's LoggerHook writes for an iteration-based run
    return dict(lr=1e-4, data_time=data_time, grad_norm=1.0, loss=loss,
                loss_loc_rgb=loss / 2, acc=0.5, time=time, iter=it, step=it)


def _val(auc):
    # validation lines are logged at step=epoch, i.e. 0
    return {'forgery/acc': 50.0, 'forgery/auc': auc, 'map/pixel_auc': 0.6,
            'data_time': 0.2, 'time': 0.5, 'step': 0}


def _write(path, records):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        for r in records:
            f.write(json.dumps(r) + '\n')


@pytest.fixture
def work_dir(tmp_path):
    """Run 1 logs iters 10, 20 (+ val), 30 and is interrupted; run 2 resumes
    from iter 20 and logs 30, 40 (+ val)."""
    w = tmp_path / 'work'
    _write(str(w / '20260101_000000' / 'vis_data' / 'scalars.json'),
           [_train(10, 1.0, 9.0), _train(20, 0.8, 1.0), _val(60.0),
            _train(30, 0.7, 99.0)])
    run2 = [_train(30, 0.6, 5.0), _train(40, 0.5, 2.0), _val(70.0)]
    _write(str(w / '20260101_010000' / 'vis_data' / 'scalars.json'), run2)
    # mmengine writes the same lines to <timestamp>.json
    _write(str(w / '20260101_010000' / 'vis_data' / '20260101_010000.json'),
           run2)
    return str(w)


def test_load_log_joins_resumed_runs(work_dir):
    tool = _tool()
    recs = tool.load_log(work_dir)
    train = [(r['_x'], r['loss']) for r in recs if r['_mode'] == 'train']
    assert train == [(10, 1.0), (20, 0.8), (30, 0.6), (40, 0.5)]
    val = [(r['_x'], r['forgery/auc']) for r in recs if r['_mode'] == 'val']
    assert val == [(20, 60.0), (40, 70.0)]  # at the iteration logged before


def test_cal_train_time_known_values(work_dir, capsys):
    tool = _tool()
    # first line of each run left out: iters 20 (1.0 s) and 40 (2.0 s),
    # 10 iterations each
    res = tool.cal_train_time(tool.load_log(work_dir))
    assert res['avg'] == pytest.approx(1.5)
    assert res['total'] == pytest.approx(60.0) and res['iters'] == 40
    assert res['slowest'] == (40, 2.0) and res['fastest'] == (20, 1.0)
    assert res['used'] == 2 and res['data_time'] == pytest.approx(0.1)
    res = tool.cal_train_time(tool.load_log(work_dir), include_outliers=True)
    assert res['avg'] == pytest.approx((9.0 + 1.0 + 5.0 + 2.0) / 4)
    code, out, _, _ = _cli(['cal_train_time', work_dir], capsys)
    assert code == 0
    assert 'average iter time: 1.5000 s/iter' in out
    assert 'estimated train time: 0:01:00 for 40 iterations' in out


def test_plot_curve_series(work_dir, tmp_path, capsys):
    tool = _tool()
    one = osp.join(work_dir, '20260101_000000')  # a timestamp dir
    two = osp.join(work_dir, '20260101_010000', 'vis_data',
                   '20260101_010000.json')  # a <timestamp>.json file
    logs = {'a': tool.load_log(one), 'b': tool.load_log(two)}
    fig = tool.plot_curve(logs, ['loss', 'auc'])
    assert len(fig.axes) == 2
    lines = [[ln.get_label() for ln in ax.lines] for ax in fig.axes]
    assert lines == [['a: loss', 'b: loss'],
                     ['a: forgery/auc', 'b: forgery/auc']]
    xs, ys = fig.axes[0].lines[1].get_data()
    assert list(xs) == [30, 40] and list(ys) == [0.6, 0.5]
    xs, ys = fig.axes[1].lines[0].get_data()
    assert list(xs) == [20] and list(ys) == [60.0]

    out = str(tmp_path / 'curves.png')
    cmd = ['plot_curve', work_dir, '--keys', 'loss', 'loss_loc_rgb', 'auc',
           '--out', out]
    code, text, _, _ = _cli(cmd, capsys)
    assert code == 0 and '3 curves of 3 keys' in text
    img = cv2.imread(out)
    assert img is not None and img.shape[0] > img.shape[1]  # 3 rows
    # an existing image is not replaced silently
    code, _, text, _ = _cli(cmd, capsys)
    assert code == 1 and 'curves.png' in text
    assert _cli(cmd + ['--overwrite'], capsys)[0] == 0


def test_bad_input_one_line(work_dir, tmp_path, capsys):

    def err(args):
        code, _, text, _ = _cli(args, capsys)
        lines = text.strip().splitlines()
        assert code == 1 and len(lines) == 1, text
        return lines[0]

    out = str(tmp_path / 'c.png')
    line = err(['plot_curve', work_dir, '--keys', 'lossx', '--out', out])
    assert "'lossx'" in line and 'loss_loc_rgb' in line
    assert 'nope' in err(['cal_train_time', str(tmp_path / 'nope')])
    bad = tmp_path / 'bad.json'
    bad.write_text('{"loss": 1}\nnot json\n')
    assert 'bad.json:2' in err(['plot_curve', str(bad), '--out', out])
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert 'scalars.json' in err(['cal_train_time', str(empty)])


def doc_commands():
    """Every ``python tools/analysis/analyze_logs.py`` command of the doc
    page, in order (arguments after the script)."""
    text = open(DOC, encoding='utf-8').read()
    cmds = []
    for block in re.findall(r'```bash\n(.*?)```', text, flags=re.S):
        for line in block.replace('\\\n', ' ').splitlines():
            words = shlex.split(line.partition('#')[0])
            if words[:2] == ['python', 'tools/analysis/analyze_logs.py']:
                cmds.append(words[2:])
    return cmds


def test_doc_commands_run(work_dir, tmp_path, capsys):
    """The page's commands, with its work_dirs/ under a tmp dir holding
    ``demo`` (interrupted + resumed run) and two single runs."""
    root = osp.dirname(work_dir)
    os.rename(work_dir, osp.join(root, 'demo'))
    for name, auc in (('run_a', 55.0), ('run_b', 65.0)):
        _write(osp.join(root, name, '20260102_000000', 'vis_data',
                        'scalars.json'),
               [_train(10, 1.0, 1.0), _train(20, 0.9, 1.0), _val(auc)])
    cmds = doc_commands()
    assert [c[0] for c in cmds] == ['plot_curve', 'plot_curve',
                                    'cal_train_time']
    results = []
    for args in cmds:
        args = [osp.join(root, a[len('work_dirs/'):])
                if a.startswith('work_dirs/') else a for a in args]
        code, out, err, res = _cli(args, capsys)
        assert code == 0, err
        results.append((args, out, res))
    (args0, out0, fig0), (args1, out1, fig1), (_, out2, times) = results
    assert osp.isfile(args0[args0.index('--out') + 1])
    assert [ax.get_ylabel() for ax in fig0.axes] == ['loss', 'loss_loc_rgb',
                                                     'auc']
    assert [len(ax.lines) for ax in fig0.axes] == [1, 1, 1]
    assert fig0.axes[2].lines[0].get_data()[1].tolist() == [60.0, 70.0]
    assert osp.isfile(args1[args1.index('--out') + 1])
    assert [ln.get_label() for ln in fig1.axes[0].lines] == \
        ['a: forgery/auc', 'b: forgery/auc']
    assert [ln.get_data()[1].tolist() for ln in fig1.axes[0].lines] == \
        [[55.0], [65.0]]
    [res] = times.values()
    assert res['avg'] == pytest.approx(1.5)
    # --include-outliers keeps the first line of each run
    code, out, _, times = _cli(['cal_train_time', osp.join(root, 'demo'),
                                '--include-outliers'], capsys)
    assert code == 0 and 'average iter time: 4.2500 s/iter' in out
