"""Helpers shared by the metric tests: run a metric over samples in
batches, and collect what it warns."""
from unittest import mock

from mmengine.logging import MMLogger


def run_metric(metric, samples, batch=4):
    """``process`` the samples ``batch`` at a time, then
    ``compute_metrics``."""
    for i in range(0, len(samples), batch):
        metric.process(None, samples[i:i + batch])
    return metric.compute_metrics(metric.results)


def run_metric_warnings(metric, samples):
    """:func:`run_metric` and the text of every warning it logged."""
    with mock.patch.object(MMLogger.get_current_instance(), 'warning') as warn:
        out = run_metric(metric, samples)
    return out, ' '.join(str(c.args[0]) for c in warn.call_args_list)
