"""The checked JSON readers of mmfocus.utils.io (used by the converters, the
map tools, the HTML report and tools/analysis/analyze_logs.py): the value as
json gives it, and one clear error naming the file (and line)."""
import json

import pytest

from mmfocus.utils.io import load_json, load_json_lines, peek_json


def test_load_json(tmp_path):
    path = tmp_path / 'a.json'
    obj = {'data_list': [{'img_path': 'x.png', 'gt_label': 1}], 'n': 2.5}
    path.write_text(json.dumps(obj))
    assert load_json(str(path)) == obj
    with pytest.raises(FileNotFoundError,
                       match=r'^split file not found: .*nope\.json$'):
        load_json(str(tmp_path / 'nope.json'), 'split file')
    path.write_text('{"a": 1,')
    with pytest.raises(ValueError, match=r'a\.json: not valid JSON'):
        load_json(str(path))


def test_peek_json_is_none_for_what_load_json_refuses(tmp_path):
    path = tmp_path / 'a.json'
    path.write_text(json.dumps([1, {'b': None}]))
    assert peek_json(str(path)) == [1, {'b': None}]
    assert peek_json(str(tmp_path / 'nope.json')) is None
    assert peek_json(str(tmp_path)) is None  # a folder: OSError
    path.write_text('{"a": 1,')
    assert peek_json(str(path)) is None


def test_load_json_lines(tmp_path):
    recs = [{'lr': 0.1, 'iter': 10, 'loss': 0.5},
            {'forgery/auc': 99.0, 'step': 1}]
    path = tmp_path / 'scalars.json'
    path.write_text(json.dumps(recs[0]) + '\n\n  \n' + json.dumps(recs[1]) +
                    '\n')
    assert load_json_lines(str(path)) == recs
    path.write_text(json.dumps(recs[0]) + '\n[1, 2]\n')
    with pytest.raises(ValueError, match=r'scalars\.json:2 is not a JSON '
                       r'object'):
        load_json_lines(str(path))
    path.write_text('\n' + json.dumps(recs[0]) + '\n{"loss": \n')
    with pytest.raises(ValueError, match=r'scalars\.json:3 is not a JSON '
                       r'log line'):
        load_json_lines(str(path))
    with pytest.raises(FileNotFoundError, match='gone.json'):
        load_json_lines(str(tmp_path / 'gone.json'))


def test_save_result_json_says_when_it_replaces(tmp_path, capsys):
    from mmfocus.utils.cli import save_result_json
    path = tmp_path / 'res.json'
    save_result_json(str(path), {'a': (1, 2)})
    assert capsys.readouterr().out.strip() == f'Wrote {path}'
    assert json.loads(path.read_text()) == {'a': [1, 2]}
    save_result_json(str(path), {'a': 3})
    assert capsys.readouterr().out.strip() == f'Replaced {path}'
    # a value JSON cannot hold fails before the old result is touched
    with pytest.raises(TypeError):
        save_result_json(str(path), {'a': object()})
    assert json.loads(path.read_text()) == {'a': 3}
    assert sorted(p.name for p in tmp_path.iterdir()) == ['res.json']
