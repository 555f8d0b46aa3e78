# Copyright (c) mmfocus contributors.
"""Speed of a model against a reference, measured in one process and run.

FoCus is two ViT-S backbones plus small necks, so its cost should be almost
exactly the cost of two plain backbones. This package measures both in the
same process, on the same device, batch, precision and optimizer, with the
timed steps **interleaved** (model, reference, model, reference, ...) after
a warm-up, so that clock boosts, thermal drift and other jobs on a shared
machine hit both alike; the result is a ratio with its spread.

What is timed:

* **training step**: the config's data preprocessor (H2D copy, Sobel/DCT/SRM
  on the device), ``forward(mode='loss')``, ``parse_losses``, backward and
  the optimizer step (the config's optimizer, e.g. Adam), exactly the work
  of mmengine's ``BaseModel.train_step``;
* **inference**: the preprocessor and ``forward(mode='tensor')`` (logits and
  manipulation maps) under ``no_grad``; ``mode='predict'`` on request;
* the **data preprocessor** and the **modality filters** alone on the device;
* peak memory of one step of each (after the timings);
* the **data pipeline** alone: the config's train pipeline (decode and
  transforms) through a ``DataLoader`` with N workers; on request the same
  pipeline reading packed shards of the same faces
  (:func:`benchmark_shard_comparison`);
* **map generation** (:mod:`.maps`, ``tools/analysis/benchmark_maps.py``):
  faces/s of each map source on the same crops, interleaved, with the AMP
  maps' deviation from fp32;
* **the training loop** (:mod:`.loop`, ``tools/analysis/benchmark_loop.py``):
  a real runner's loop (hooks, logging, data fetching) against the bare
  step of the same model, with the host time in each hook;
* **video decoding** (:mod:`.decode`, ``tools/analysis/benchmark_decode.py``):
  frames/s of the converters' decoders (OpenCV, PyAV threads) on the same
  videos, with the resident memory over the videos;
* **face detection** (:mod:`.detect`, ``tools/analysis/benchmark_detect.py``):
  frames/s of the converters' face detectors (dlib HOG, the batched PyTorch
  RetinaFace on CPU or GPU) on the same frames.

Timings use ``time.perf_counter`` with ``torch.cuda.synchronize()`` before
and after each timed call on a GPU. Peak memory is
``torch.cuda.max_memory_allocated`` on a GPU and the sampled resident set
size on CPU (:class:`MemoryProbe`).

Modules: :mod:`.reference` (the two-backbone reference), :mod:`.steps`
(the batch and the step builders), :mod:`.timing` (interleaved timings and
statistics), :mod:`.memory` (memory probing), :mod:`.models` (the model and
preprocessor benchmarks), :mod:`.pipeline` (the data-pipeline benchmark),
:mod:`.maps` (map generation), :mod:`.decode` (video decoding),
:mod:`.detect` (face detection),
:mod:`.loop` (the real training loop against the bare step),
:mod:`.environment` and :mod:`.report`.
The targets a result is judged against are the caller's
(``tools/analysis/benchmark.py``).

Example:
    >>> from mmfocus.analysis.benchmark import interleaved_timings
    >>> t = interleaved_timings({'a': lambda: None, 'b': lambda: None},
    ...                         warmup=1, repeats=3)
    >>> sorted(t), len(t['a'])
    (['a', 'b'], 3)
"""
from .decode import (DEFAULT_DECODERS, benchmark_decoders,
                     write_synthetic_video)
from .detect import benchmark_detectors, synthetic_frames
from .environment import environment_info
from .maps import (amp_deviation, benchmark_map_sources, load_pairs,
                   synthetic_pairs)
from .loop import LoopClock, format_loop_report, measure_loop, summarize_loop
from .memory import MemoryProbe, measure_memory, static_bytes
from .models import benchmark_models, benchmark_preprocessor
from .pipeline import (benchmark_data_pipeline, benchmark_shard_comparison,
                       workers_needed)
from .reference import (VIT_ALIASES, TwoBackboneReference, build_reference,
                        build_reference_backbone, parse_reference)
from .report import format_report
from .steps import (AmpDtype, build_collate_fn, compile_forward, loads_masks,
                    make_batch, make_infer_step, make_samples,
                    make_train_step)
from .timing import interleaved_timings, paired_ratio, summarize_times

__all__ = [
    'VIT_ALIASES', 'parse_reference', 'build_reference_backbone',
    'TwoBackboneReference', 'build_reference', 'make_batch',
    'interleaved_timings', 'summarize_times', 'paired_ratio',
    'MemoryProbe', 'static_bytes', 'measure_memory', 'make_train_step',
    'benchmark_detectors', 'synthetic_frames',
    'make_infer_step',
    'compile_forward', 'benchmark_models', 'benchmark_preprocessor',
    'benchmark_data_pipeline', 'benchmark_shard_comparison',
    'workers_needed', 'environment_info',
    'format_report', 'AmpDtype', 'benchmark_map_sources', 'load_pairs',
    'synthetic_pairs', 'amp_deviation', 'benchmark_decoders',
    'write_synthetic_video', 'DEFAULT_DECODERS', 'make_samples',
    'build_collate_fn', 'loads_masks',
    'LoopClock', 'measure_loop', 'summarize_loop',
    'format_loop_report'
]
