"""The DFDC-size memory check (.dev_scripts/analysis/convert_memory.py) on
a tiny generated tree: it converts every video, samples the resident set
of the converter's processes, and refuses an existing output."""
import json

import pytest

pytest.importorskip('av')
pytest.importorskip('dlib')


def test_convert_memory_on_a_tiny_tree(load_tool, tmp_path, capsys):
    tool = load_tool('.dev_scripts/analysis/convert_memory.py')
    work = tmp_path / 'w'
    argv = ['--videos', '3', '--distinct', '2', '--seconds', '0.5',
            '--size', '640', '360', '--frames', '2', '--workers', '1',
            '--interval', '0.2', '--work-dir', str(work)]
    assert tool.main(argv) == 0
    res = json.load(open(work / 'convert_memory.json'))
    assert res['returncode'] == 0 and res['videos'] == 3
    assert len(res['generated']) == 2  # 2 encoded, 1 hard link
    tree = work / 'DFDC' / 'test'
    assert sorted(p.name for p in tree.glob('*.mp4')) == [
        'v00000.mp4', 'v00001.mp4', 'v00002.mp4']
    assert (tree / 'v00002.mp4').stat().st_ino == (
        work / 'DFDC' / 'src000.mp4').stat().st_ino
    # every video converted, one face per sampled frame
    ann = json.load(open(work / 'converted' / 'test.json'))
    assert len(ann['data_list']) == 6
    assert res['samples'] and res['peak_rss_total_mb'] > 0
    assert res['peak_rss_total_mb'] == max(s['rss_total_mb']
                                           for s in res['samples'])
    with pytest.raises(SystemExit, match='exists'):
        tool.main(argv)
