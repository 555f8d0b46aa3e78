"""The packages split out of one-module files keep their old import paths,
and the report's page template is package data."""
import importlib.resources
import string

import pytest


def test_report_names_import_from_the_package():
    from mmfocus.visualization import report
    from mmfocus.visualization.report import figures, page, results
    for name in ('figure_to_rgb', 'figure_to_png', 'has_video_level',
                 'roc_curves', 'roc_figure', 'group_names',
                 'histogram_figure', 'gallery_figure', '_new_figure'):
        assert getattr(report, name) is getattr(figures, name)
    for name in ('is_predictions_dump', 'find_predictions',
                 'load_predictions', 'find_test_metrics', 'load_metrics',
                 'metrics_from_predictions', 'MapIndex', '_flat'):
        assert getattr(report, name) is getattr(results, name)
    for name in ('data_uri', 'build_report_html', 'write_report', '_select',
                 '_thumb', '_fmt'):
        assert getattr(report, name) is getattr(page, name)


def test_report_template_is_package_data():
    res = importlib.resources.files('mmfocus.visualization.report')
    text = res.joinpath('template.html').read_text(encoding='utf-8')
    fields = {m.group('named') or m.group('braced')
              for m in string.Template.pattern.finditer(text)
              if m.group('named') or m.group('braced')}
    assert fields == {'title', 'n_items', 'meta', 'metrics', 'plots',
                      'shown', 'n_errors', 'thr', 'items_json'}
    assert 'Content-Security-Policy' in text and "default-src 'none'" in text


def test_map_protocol_names_import_from_the_package():
    from mmfocus.experiments import map_protocol
    from mmfocus.experiments.map_protocol import runner, spec
    assert map_protocol.MapProtocol is runner.MapProtocol
    assert map_protocol.run_map_protocol is runner.run_map_protocol
    for name in ('load_protocol_spec', 'check_spec', 'scale_schedule',
                 'CROSS_DATASETS', 'DEFAULT_DROP_HOOKS'):
        assert getattr(map_protocol, name) is getattr(spec, name)
    for name in ('map_quality', 'faithfulness', 'prior_quality',
                 'collect_results', 'collect_map_quality', 'write_tables',
                 'train', 'test', 'run'):
        assert callable(getattr(map_protocol.MapProtocol, name))


def test_parse_cfg_options_is_mmengine_dict_action():
    from mmfocus.utils.config import parse_cfg_options
    assert parse_cfg_options(None) == {}
    assert parse_cfg_options(['a.b=1', 'c=[1,2]', 'd=x', 'e=True',
                              'f=None', 'g=0.5']) == {
        'a.b': 1, 'c': [1, 2], 'd': 'x', 'e': True, 'f': None, 'g': 0.5}
    with pytest.raises(ValueError):
        parse_cfg_options(['no_equals_sign'])
