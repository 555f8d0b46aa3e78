# Copyright (c) mmfocus contributors.
"""Model analysis: FLOP and parameter counts of the whole model, the
complexity table of several models, modality-filter statistics."""
from .flops import (SDPA_OPS, build_dummy_inputs, count_flops, format_count,
                    format_flops_table, infer_input_shape, sdpa_flop_jit,
                    sdpa_flops)
from .complexity import complexity_markdown, measure_complexity
from .modality_stats import filter_statistics

__all__ = [
    'SDPA_OPS', 'build_dummy_inputs', 'count_flops', 'format_count',
    'format_flops_table', 'infer_input_shape', 'sdpa_flop_jit', 'sdpa_flops',
    'measure_complexity', 'complexity_markdown', 'filter_statistics'
]
