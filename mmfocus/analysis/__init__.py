# Copyright (c) mmfocus contributors.
"""Model analysis: FLOP and parameter counts of the whole model."""
from .flops import (SDPA_OPS, build_dummy_inputs, count_flops, format_count,
                    format_flops_table, infer_input_shape, sdpa_flop_jit,
                    sdpa_flops)

__all__ = [
    'SDPA_OPS', 'build_dummy_inputs', 'count_flops', 'format_count',
    'format_flops_table', 'infer_input_shape', 'sdpa_flop_jit', 'sdpa_flops'
]
