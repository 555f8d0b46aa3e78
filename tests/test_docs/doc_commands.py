"""The ledger of documented commands: which test runs each of them.

Every shell command in ``README.md`` and ``docs/en/**/*.md`` (see
``doc_extract.py``) is keyed by the tool it runs (``tools/train.py``,
``tools/dist_train.sh``, ``pip install``, ...). ``LEDGER`` maps each key to a
:class:`Tool`; ``test_doc_commands.py`` checks that

- every documented command has an entry, and no entry is stale;
- every test node id listed exists, and its module names the tool;
- every option the docs pass to the tool exists in the tool's argparse, and
  is used by one of the listed tests (a string constant in the test function
  or in the module's helpers) or by a test that runs the doc page's commands
  themselves (``doc_runners``), unless ``not_run`` says why no test runs it;
- every repository path in a command exists;
- the commands marked ``cheap`` are run here.

An entry with no ``tests`` must give a ``reason`` (it needs real datasets,
GPUs, a cluster or the network); its commands are checked for options and
paths only.
"""
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple


@dataclass(frozen=True)
class Tool:
    tests: Tuple[str, ...] = ()
    # the Python tool whose argparse the documented options must exist in:
    # the key itself for ``*.py`` (default), a script's Python target for a
    # shell launcher, '' for a program without argparse
    parser: Optional[str] = None
    # doc pages whose commands of this tool a listed test reads and runs
    doc_runners: Tuple[str, ...] = ()
    # option -> why no test runs it
    not_run: Dict[str, str] = field(default_factory=dict)
    # why no test runs the command at all (then ``tests`` is empty)
    reason: str = ''
    # 'verbatim': test_doc_commands runs the documented command as written;
    # 'tiny': with the config swapped for tests/data/focus_tiny.py
    cheap: str = ''
    # positional arguments (0-based, before the first option) the tool
    # writes: not required to exist in the repository
    outputs: Tuple[int, ...] = ()


TT = 'tests/test_tools/test_train_test_tools.py'
PKG = 'tests/test_structure/test_packaging.py'
FLOPS = 'tests/test_analysis/test_flops.py'
BENCH = 'tests/test_analysis/test_benchmark.py'
CUDA_ONLY = 'needs CUDA (the tests run on CPU)'
NEEDS_FFPP = ('needs the FaceForensics++ download (licence-gated) and GPUs; '
              'the same tool runs on the tiny config in the listed tests')

LEDGER: Dict[str, Tool] = {
    # ---------------------------------------------------------- set-up
    'git clone': Tool(reason='network (clones the repository)'),
    'cd': Tool(reason='shell built-in'),
    'source': Tool(reason='shell built-in (activates the venv made by '
                   'tools/setup_env.sh)'),
    'pip install': Tool(
        reason='installs from PyPI (network); tools/setup_env.sh installs '
        'the tested set and tools/run_tests.sh runs the suite in it'),
    'tools/run_demo.sh': Tool(
        reason='the whole demo (venv set-up with network, minutes of CPU '
        'training); its steps run on tiny inputs in the listed tests of '
        'tools/train.py, tools/test.py and tools/misc/demo_summary.py',
        parser=''),
    'tools/run_tests.sh': Tool(
        reason='runs this test suite itself (the CI command)', parser=''),
    'sphinx-build': Tool(
        tests=('tests/test_docs/test_sphinx_build.py::test_html_build',),
        parser=''),
    # ---------------------------------------------------- train / test
    'tools/train.py': Tool(
        tests=(f'{TT}::test_train_writes_checkpoints_flops_and_logs',
               f'{TT}::test_resume_after_interruption_matches_uninterrupted',
               f'{TT}::test_bad_inputs_give_one_clear_line',
               'tests/test_engine/test_fast_path.py::'
               'test_train_tool_amp_bf16_and_compile_flags',
               'tests/test_multitask/test_train_demo_multitask.py::'
               'test_demo_multitask_trains_and_tests'),
        not_run={
            '--auto-scale-lr': 'scales the lr by the total batch / 128: '
            'mmengine\'s own auto_scale_lr, set from the flag',
            '--force': 'overwrites a work dir; the refusal without it is '
            'tested (test_resume_after_interruption_matches_uninterrupted)',
            '--allow-new-keys': 'lifts the --cfg-options key check, whose '
            'refusal is tested (test_bad_inputs_give_one_clear_line)',
        }),
    'tools/test.py': Tool(
        tests=(f'{TT}::test_test_tool_metrics_maps_and_predictions',
               f'{TT}::test_bad_inputs_give_one_clear_line',
               f'{TT}::test_corrupt_image_names_the_file',
               'tests/test_multitask/test_train_demo_multitask.py::'
               'test_demo_multitask_trains_and_tests'),
        not_run={
            '--overwrite': 'replaces an existing --out file',
            '--show-dir': 'moves the map dump of ManipulationMapHook',
            '--no-maps': 'removes ManipulationMapHook',
            '--amp': 'sets test_cfg.fp16: fp16 autocast, ' + CUDA_ONLY,
        }),
    'tools/dist_train.sh': Tool(
        tests=(f'{TT}::test_dist_train_two_cpu_processes',),
        parser='tools/train.py',
        not_run={'--auto-scale-lr': 'see tools/train.py'}),
    'tools/dist_test.sh': Tool(
        tests=(f'{TT}::test_dist_test_two_cpu_processes_and_demo_summary',),
        parser='tools/test.py'),
    '.dev_scripts/device/train_demo_checkpoint.sh': Tool(
        reason='the recorded GPU training of the shipped demo checkpoint '
        '(configs/focus/README.md); tools/train.py is tested',
        parser=''),
    'tools/slurm_train.sh': Tool(reason='needs a Slurm cluster', parser=''),
    'tools/slurm_test.sh': Tool(reason='needs a Slurm cluster', parser=''),
    'sbatch': Tool(reason='needs a Slurm cluster; the command it wraps is '
                   'checked as its own entry', parser=''),
    # ---------------------------------------------------------- tools
    'tools/misc/print_config.py': Tool(
        tests=(f'{TT}::test_print_config_shows_merged_user_config',
               'tests/test_docs/test_doc_commands.py::'
               'test_cheap_commands_run'),
        not_run={'--allow-new-keys': 'see tools/train.py'},
        cheap='verbatim'),
    'tools/analysis/seed_table.py': Tool(
        tests=('tests/test_analysis/test_seed_table.py::'
               'test_tool_tests_each_checkpoint_and_writes_the_table',)),
    'tools/misc/build_demo_data.py': Tool(
        tests=('tests/test_tools/test_build_demo_data.py::'
               'test_outputs_and_dataset_loading',
               'tests/test_tools/test_build_demo_data.py::'
               'test_refuses_overwrite_unless_force')),
    'tools/misc/build_demo_clips.py': Tool(
        tests=('tests/test_faces/test_demo_clips.py::'
               'test_build_demo_clips_tool',)),
    'tools/analysis/get_flops.py': Tool(
        tests=(f'{FLOPS}::test_get_flops_tool_tiny_config',
               f'{FLOPS}::test_get_flops_tool_timm_deit_tiny',
               'tests/test_docs/test_doc_commands.py::'
               'test_cheap_commands_run'),
        cheap='tiny'),
    '.dev_scripts/analysis/boundary_auc.py': Tool(
        tests=('tests/test_evaluation/test_boundary_auc.py::'
               'test_known_answers',)),
    '.dev_scripts/analysis/check_retinaface_reference.py': Tool(
        reason='imports the public Pytorch_Retinaface code from a local '
        'checkout (cloning it needs the network); the same architecture, '
        'anchors and decoding are tested against known answers in '
        'tests/test_faces/test_retinaface.py'),
    '.dev_scripts/analysis/convert_memory.py': Tool(
        tests=('tests/test_converters/test_convert_memory.py::'
               'test_convert_memory_on_a_tiny_tree', )),
    '.dev_scripts/analysis/token_evidence.py': Tool(
        tests=('tests/test_evaluation/test_token_evidence.py::'
               'test_known_answers',)),
    'tools/analysis/complexity.py': Tool(
        tests=('tests/test_analysis/test_complexity.py::'
               'test_tool_writes_table_and_refuses_to_overwrite',),
        not_run={
            '--device': 'the full-size table is a GPU measurement (cuda); '
            'the test runs the default cpu',
            '--amp': 'bf16/fp16 timings are a GPU measurement',
        }),
    'tools/analysis/benchmark.py': Tool(
        tests=(f'{BENCH}::test_tool_on_tiny_config',
               f'{BENCH}::test_tool_without_reference_and_data',
               f'{BENCH}::test_tool_phases_infer_only_with_data',
               f'{BENCH}::test_tool_bad_input_is_one_error_line'),
        not_run={
            '--amp': 'bf16/fp16 timings are a GPU measurement; fp16 without '
            'CUDA is refused in test_tool_bad_input_is_one_error_line',
            '--compile': 'torch.compile of both models: minutes of '
            'compilation on CPU',
            '--iters': 'steps per timed sample (default 1)',
        }),
    'tools/analysis/benchmark_decode.py': Tool(
        tests=('tests/test_analysis/test_benchmark_decode.py::test_tool',)),
    'tools/analysis/benchmark_detect.py': Tool(
        tests=('tests/test_analysis/test_benchmark_detect.py::test_tool',),
        not_run={'--fp16': 'float16 RetinaFace is a CUDA measurement (the '
                 'tests run on CPU; the CPU refusal is tested)'}),
    'tools/analysis/benchmark_loop.py': Tool(
        tests=('tests/test_analysis/test_benchmark_loop.py::'
               'test_benchmark_loop_tool',),
        not_run={'--amp': 'bf16 timings are a GPU measurement; the switch '
                 'is tools/train.py\'s apply_amp, tested in '
                 'tests/test_engine/test_fast_path.py'}),
    'tools/analysis/benchmark_maps.py': Tool(
        tests=('tests/test_analysis/test_benchmark_maps.py::test_tool',)),
    'tools/model_converters/timm_vit_to_mmfocus.py': Tool(
        tests=('tests/test_models/test_vit.py::'
               'test_converter_on_random_deit_s_checkpoint',),
        outputs=(1,)),
    'tools/model_converters/retinaface_to_mmfocus.py': Tool(
        tests=('tests/test_faces/test_retinaface.py::test_converter_tool',),
        outputs=(1,)),
    'tools/model_converters/publish_model.py': Tool(
        tests=(f'{TT}::test_publish_model_strips_training_state',),
        not_run={'--no-hash': 'keeps the file name without the hash '
                 'suffix; the test checks the hashed name'},
        outputs=(1,)),
    'pip wheel': Tool(
        tests=(f'{PKG}::test_wheel_carries_configs_tools_and_index',),
        not_run={'--no-build-isolation': 'what the test passes; the '
                 'option only keeps pip from fetching setuptools'}),
    'mim': Tool(
        tests=(f'{PKG}::test_installed_wheel_finds_its_configs_and_mim_'
               'runs_a_tool',
               f'{PKG}::test_mim_test_and_train_outside_the_repo'),
        parser=''),
    '.dev_scripts/gen_model_index.py': Tool(
        tests=(f'{PKG}::test_model_index_is_up_to_date',
               f'{PKG}::test_model_index_check_fails_on_a_stale_file')),
    'tools/app.py': Tool(
        tests=('tests/test_app/test_app_server.py::'
               'test_documented_commands_serve',),
        doc_runners=('docs/en/user_guides/app.md',)),
    'python -m mmfocus.app': Tool(
        tests=('tests/test_app/test_app_server.py::'
               'test_documented_commands_serve',),
        parser='tools/app.py',
        doc_runners=('docs/en/user_guides/app.md',)),
    'tools/infer.py': Tool(
        tests=('tests/test_apis/test_infer_tool.py::'
               'test_doc_commands_run_on_tiny_config',),
        doc_runners=('docs/en/user_guides/inference.md',)),
    'tools/generate_maps.py': Tool(
        tests=('tests/test_maps/test_generate_maps.py::'
               'test_comparison_sources',
               'tests/test_maps/test_generate_maps.py::test_focus_source',
               'tests/test_maps/test_model_maps.py::'
               'test_cam_source_matches_hand_computation',
               'tests/test_maps/test_model_maps.py::'
               'test_attention_source_matches_qkv_computation',
               'tests/test_maps/test_model_maps.py::test_issue_command_form'),
        not_run={'--device': 'cuda for the model sources; the tests run '
                 'on CPU (the default)'}),
    'tools/model_converters/tv_efficientnet_to_mmpretrain.py': Tool(
        tests=('tests/test_multitask/test_efficientnet_converter.py::'
               'test_tool_writes_a_checkpoint_the_multitask_backbone_loads',),
        not_run={'--tf-padding': 'the kwargs it selects '
                 '(backbone_kwargs_for(tf_padding=True)) are tested through '
                 'the API: test_converted_weights_give_equal_outputs[tf_]'},
        outputs=(1,)),
    'tools/model_converters/tv_resnet_to_mmpretrain.py': Tool(
        tests=('tests/test_models/test_map_detectors.py::'
               'test_resnet_tool_writes_a_checkpoint_pcl_loads',),
        outputs=(1,)),
    'tools/dist_generate_maps.sh': Tool(
        tests=('tests/test_maps/test_dist_generate_maps.py::'
               'test_two_processes_split_frames_and_match_one',
               'tests/test_maps/test_dist_generate_maps.py::'
               'test_two_processes_model_source'),
        parser='tools/generate_maps.py'),
    'tools/analysis/robustness.py': Tool(
        tests=('tests/test_robustness/test_robustness_tool.py::'
               'test_robustness_tool_table_json_plot',)),
    'tools/dataset_converters/ffpp.py': Tool(
        tests=('tests/test_converters/test_ffpp.py::test_cli',
               'tests/test_converters/test_ffpp.py::'
               'test_cli_torch_retinaface',
               'tests/test_converters/test_clips.py::test_cli_clips',
               'tests/test_converters/test_pack_shards_option.py::'
               'test_pack_shards_option'),
        not_run={'--workers': 'worker processes: run through the Python API '
                 'in test_two_workers_and_progress_bar'}),
    'tools/dataset_converters/pack_shards.py': Tool(
        tests=('tests/test_datasets/test_shards.py::test_pack_tool',)),
    'tools/dataset_converters/celebdf.py': Tool(
        tests=('tests/test_converters/test_celebdf.py::test_cli',),
        not_run={'--workers': 'worker processes: see the FF++ converter'}),
    'tools/dataset_converters/dfdc.py': Tool(
        tests=('tests/test_converters/test_dfdc.py::test_cli',),
        not_run={'--workers': 'worker processes: see the FF++ converter',
                 '--decoder': 'an option every converter shares (cli.py); '
                 'run through the FF++ tool in tests/test_converters/'
                 'test_decoders.py::test_conversion_with_pyav_is_the_same',
                 '--decode-threads': 'see --decoder'}),
    'tools/dataset_converters/dfdcp.py': Tool(
        tests=('tests/test_converters/test_dfdcp.py::test_cli_and_config',),
        not_run={'--workers': 'worker processes: see the FF++ converter'}),
    'tools/dataset_converters/wdf.py': Tool(
        tests=('tests/test_converters/test_wdf.py::test_cli',),
        not_run={'--workers': 'worker processes: see the FF++ converter'}),
    # ------------------------------------------- experiments and reports
    'tools/experiments/map_protocol.py': Tool(
        tests=('tests/test_experiments/test_map_protocol.py::'
               'test_protocol_end_to_end_and_resume',
               'tests/test_experiments/test_map_protocol.py::'
               'test_map_sources_spec_quality_only_with_faithfulness'),
        not_run={'--launcher': 'one process per GPU under torchrun (8 GPUs '
                 'and FF++); the tests run one CPU process'}),
    'tools/analysis/analyze_logs.py': Tool(
        tests=('tests/test_analysis/test_analyze_logs.py::'
               'test_doc_commands_run',
               'tests/test_analysis/test_analyze_logs.py::'
               'test_plot_curve_series'),
        doc_runners=('docs/en/useful_tools/report.md',)),
    'tools/report.py': Tool(
        tests=('tests/test_tools/test_report.py::test_doc_commands_run',
               'tests/test_tools/test_report.py::'
               'test_report_options_and_refusals',
               'tests/test_tools/test_report_experiments.py::'
               'test_doc_commands_run'),
        doc_runners=('docs/en/useful_tools/report.md',)),
    '.dev_scripts/setup_browser.sh': Tool(
        reason='installs Debian\'s chromium and chromium-driver with apt-get '
        '(root, network); the report and app tests use them when present',
        parser=''),
    'tools/visualization/map_sheet.py': Tool(
        tests=('tests/test_visualization/test_sheet.py::'
               'test_sheet_tool_grid_and_tiles',
               'tests/test_visualization/test_sheet.py::'
               'test_explicit_rows_overlay_and_refusals')),
    'tools/visualization/tsne.py': Tool(
        tests=('tests/test_visualization/test_tsne.py::'
               'test_tsne_tool_writes_plot_and_embedding',
               'tests/test_visualization/test_tsne.py::'
               'test_tsne_tool_multitask_in_process')),
}


def suggestion(key: str) -> str:
    """The ledger entry to add for a new command key."""
    return (f"    {key!r}: Tool(tests=('tests/<file>.py::<test that runs "
            f"it on a tiny config>',)),\n"
            f"    # or, when no test can run it: {key!r}: Tool(reason='needs "
            f"...')")
