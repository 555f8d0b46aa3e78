# Copyright (c) mmfocus contributors.
"""The readable report of a benchmark result.

The targets a result is judged against are the caller's (the tool's
``--train-target``, ``--infer-target`` and ``--gpu-train-aim``, stored in
the result's ``targets``); the library holds none.
"""
from typing import Optional, Tuple

__all__ = ['format_report']


def _fmt_s(s: dict) -> str:
    return f'{s["median_s"]:.4g} ({s["q1_s"]:.4g}-{s["q3_s"]:.4g})'


def _fmt_ratio(r: Optional[dict],
               target: Optional[float]) -> Tuple[str, str]:
    if not r:
        return '-', '-'
    text = (f'{r["ratio"]:.3f}x ({r["q1"]:.3f}-{r["q3"]:.3f}; '
            f'medians {r["ratio_of_medians"]:.3f}x)')
    if target is None:
        return text, '-'
    verdict = 'met' if r['ratio'] <= target else 'NOT met'
    return text, f'<= {target:.2f}x {verdict}'


def format_report(result: dict, targets: Optional[dict] = None) -> str:
    """A readable table of a :func:`benchmark_models` result plus context.

    Args:
        result (dict): The tool's result (``env``, ``setting``, ``models``,
            ``preprocessor``, ``data``, ``workers_needed`` and optionally
            ``targets``).
        targets (dict, optional): What the ratios and the data pipeline are
            judged against: ``train_ratio``, ``infer_ratio`` (model /
            reference step time) and ``gpu_train_img_s`` (the training
            throughput the workers must feed). Defaults to
            ``result['targets']``; a target left out gets no verdict.

    Returns:
        str: Several lines.
    """
    if targets is None:
        targets = result.get('targets') or {}
    env, st = result['env'], result['setting']
    models = result.get('models', {})
    has_ref = result.get('reference') is not None
    dev = env.get('gpu') or env['cpu']
    lines = [
        f'config     {result["config"]}',
        f'reference  {result["reference_desc"]}',
        f'device     {env["device"]}: {dev} ({env["cpus"]} CPUs visible, '
        f'{env["torch_threads"]} torch threads)',
        f'versions   torch {env["torch"]}, timm {env["timm"]}, mmengine '
        f'{env["mmengine"]}, mmfocus {env["mmfocus"]}; {env["date"]}',
        f'setting    batch {st["batch_size"]}, {st["shape"][0]}x'
        f'{st["shape"][1]}, amp {st["amp"]}, '
        f'{"compiled (" + st["compile"] + ")" if st["compile"] else "eager"}'
        f', warm-up {st["warmup"]}, {st["repeats"]} repeats x '
        f'{st["iters"]} step(s), interleaved model/reference',
        f'params     model {result["params"]["model"]:,}' +
        (f', reference {result["params"]["reference"]:,}' if has_ref else ''),
        '',
    ]
    w = 30
    head = (f'{"":24s}{"model":>{w}s}{"reference":>{w}s}  '
            f'{"ratio (paired IQR; of medians)":<40s}target')
    lines.append(head)
    rows = [('train', 'train step [s]', targets.get('train_ratio')),
            ('infer', f'inference ({st["infer_mode"]}) [s]',
             targets.get('infer_ratio'))]
    for key, label, target in rows:
        if key not in models:
            continue
        m = models[key]
        ref = m.get('reference')
        ratio, verdict = _fmt_ratio(m.get('ratio'), target)
        lines.append(f'{label:24s}{_fmt_s(m["model"]):>{w}s}'
                     f'{(_fmt_s(ref) if ref else "-"):>{w}s}  {ratio:<40s}'
                     f'{verdict}')
        lines.append(f'{"  images/s":24s}{m["model"]["img_s"]:>{w}.4g}'
                     f'{(format(ref["img_s"], ".4g") if ref else "-"):>{w}s}')
    mem = models.get('memory')
    if mem:
        for key, label in (('train', 'peak mem train [MiB]'),
                           ('infer', 'peak mem infer [MiB]')):
            if key not in mem:
                continue
            vals = [mem[key].get(n) for n in ('model', 'reference')]
            cells = [f'{v["total_mib"]:.1f} ({v["static_mib"]:.1f} + '
                     f'{v["step_peak_mib"]:.1f})' if v else '-' for v in vals]
            lines.append(f'{label:24s}{cells[0]:>{w}s}{cells[1]:>{w}s}')
        lines.append(f'  (static params/buffers/optimizer state + step peak; '
                     f'{mem["method"]})')
    pre = result.get('preprocessor')
    if pre:
        p = pre['preprocessor']
        txt = (f'data preprocessor on {pre["device"]}: '
               f'{p["img_s"]:.4g} img/s')
        if pre.get('filters'):
            names = ', '.join(pre['filter_names'])
            txt += (f'; modality filters alone ({names}): '
                    f'{pre["filters"]["img_s"]:.4g} img/s')
        lines += ['', txt]
    data = result.get('data')
    if data:
        if data['status'] == 'measured':
            lines.append(
                f'data pipeline ({data["workers"]} workers, {data["images"]} '
                f'images of {data["ann_file"]}): {data["img_s"]:.4g} img/s = '
                f'{data["img_s_per_worker"]:.4g} img/s per worker '
                f'({data["rate_note"]})')
            wn = result.get('workers_needed', {})
            aim = targets.get('gpu_train_img_s',
                              wn.get('gpu_train_aim_img_s'))
            txt = (f'workers needed: {wn.get("measured_train")} for the '
                   'measured training throughput')
            if aim is not None:
                txt += (f', {wn.get("gpu_train_aim")} for the {aim:.0f} '
                        'img/s GPU aim')
            lines.append(txt)
        else:
            lines.append(f'data pipeline: skipped ({data["reason"]})')
    shards = result.get('data_shards')
    if shards:
        lines += _shard_lines(shards, targets.get('gpu_train_img_s'))
    return '\n'.join(lines)


def _shard_lines(res: dict, aim: Optional[float]) -> list:
    """The PNG-vs-shards lines of :func:`benchmark_shard_comparison`."""
    if res['status'] != 'measured':
        return [f'data pipeline from shards: skipped ({res["reason"]})']
    png, sh = res['png'], res['shards']
    lines = [
        f'data pipeline, PNG vs packed shards ({res["workers"]} workers, '
        f'{png["images"]} images of {res["subset"]} faces, median of '
        f'{res["rounds"]} alternating rounds): PNG '
        f'{png["img_s_per_worker"]:.4g}, shards {sh["img_s_per_worker"]:.4g}'
        f' img/s per worker: {res["ratio"]:.3f}x; shards save '
        f'{100 * res["time_saved"]:.1f} % of the pipeline time per image',
        f'  loading alone (LoadFace + LoadManipulationMask, one process): '
        f'PNG {png["load_ms_per_img"]:.3g} ms, shards '
        f'{sh["load_ms_per_img"]:.3g} ms per image']
    if aim:
        from .pipeline import workers_needed
        lines.append(
            f'  workers needed for the {aim:.0f} img/s GPU aim: PNG '
            f'{workers_needed(aim, png["img_s_per_worker"])}, shards '
            f'{workers_needed(aim, sh["img_s_per_worker"])}')
    return lines
