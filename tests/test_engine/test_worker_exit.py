"""DataLoader workers of :class:`mmfocus.engine.MMFocusRunner` exit when
their parent is killed with SIGKILL (no clean-up runs), by the parent-death
signal (Linux) or by the parent-pid watch thread (the fallback), and
mmengine's per-worker seeding still runs.

The parent is a small Python process (``_SCRIPT``) that builds a loader of
1 MB samples (bytes: pickled through the result pipe, not shared memory)
with 2 workers, starts iterating, prints its workers' pids, seeds and
modes, then sleeps. PyTorch's own watchdog ends a plain worker's loop once
the parent is gone, but the prefetched batches fill the pipe and the
worker then hangs at exit (checked by hand with the ``plain`` mode: a
worker was still alive 30 s after the kill)."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import threading
import time

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

_SCRIPT = '''
import json, os, sys, time
import torch
from torch.utils.data import Dataset


class Big(Dataset):
    def __len__(self):
        return 100000

    def __getitem__(self, i):
        from mmfocus.utils.workers import armed_mode
        return dict(pid=os.getpid(), seed=torch.initial_seed(),
                    mode=str(armed_mode()),
                    pad=b'0' * (1 << 20))  # 1 MB through the pipe


if __name__ == '__main__':
    mode = sys.argv[1]
    from mmengine.runner import Runner
    from mmfocus.engine.runner import MMFocusRunner
    cfg = dict(dataset=Big(), batch_size=1, num_workers=2,
               persistent_workers=False,
               sampler=dict(type='DefaultSampler', shuffle=False),
               collate_fn=dict(type='default_collate'))
    runner_cls = Runner if mode == 'plain' else MMFocusRunner
    loader = runner_cls.build_dataloader(cfg, seed=123)
    if mode == 'watch':
        loader.worker_init_fn.use_prctl = False
    it = iter(loader)
    seen = {}
    while len(seen) < 2:
        b = next(it)
        seen[int(b['pid'][0])] = dict(seed=int(b['seed'][0]),
                                      mode=b['mode'][0])
    print(json.dumps(seen), flush=True)
    time.sleep(600)
'''


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its reaper counts as gone)."""
    stat = f'/proc/{pid}/stat'
    if osp.isdir('/proc'):
        try:
            with open(stat) as f:
                state = f.read().rsplit(')', 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError, IndexError):
            return False
        return state not in ('Z', 'X')
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _start(tmp_path, mode):
    script = tmp_path / 'loader_parent.py'
    script.write_text(_SCRIPT)
    env = dict(os.environ, PYTHONPATH=ROOT, OMP_NUM_THREADS='1',
               CUDA_VISIBLE_DEVICES='')
    proc = subprocess.Popen([sys.executable, str(script), mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    got = []
    reader = threading.Thread(target=lambda: got.append(
        proc.stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=300)
    if not got or not got[0].strip():
        proc.kill()
        raise AssertionError('the loader process printed nothing:\n' +
                             proc.communicate()[1][-3000:])
    return proc, {int(k): v for k, v in json.loads(got[0]).items()}


@pytest.mark.parametrize('mode', ['prctl', 'watch'])
def test_workers_exit_after_parent_is_killed(tmp_path, mode):
    if mode == 'prctl' and not sys.platform.startswith('linux'):
        pytest.skip('PR_SET_PDEATHSIG is Linux only')
    proc, workers = _start(tmp_path, mode)
    pids = sorted(workers)
    try:
        assert len(pids) == 2
        assert all(w['mode'] == mode for w in workers.values()), workers
        # mmengine's worker_init_fn ran too: seed + worker_id (rank 0)
        assert sorted(w['seed'] for w in workers.values()) == [123, 124]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 60  # a bound, not a speed check
        while any(_alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in pids if _alive(p)], 'orphaned workers live'
    finally:
        for p in pids:  # the workers this test started, if still there
            if _alive(p):
                os.kill(p, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()


def test_wrapper_chains_and_is_applied_once():
    import pickle
    from functools import partial

    from mmengine.dataset.utils import worker_init_fn
    from torch.utils.data import DataLoader

    from mmfocus.utils.workers import ExitWithParent, exit_workers_with_parent
    seed_fn = partial(worker_init_fn, num_workers=2, rank=0, seed=1)
    loader = DataLoader(list(range(4)), num_workers=2,
                        worker_init_fn=seed_fn)
    exit_workers_with_parent(loader)
    exit_workers_with_parent(loader)
    assert isinstance(loader.worker_init_fn, ExitWithParent)
    assert loader.worker_init_fn.fn is seed_fn  # wrapped once
    assert pickle.loads(pickle.dumps(loader.worker_init_fn)).fn.func is \
        worker_init_fn  # spawn start method: picklable
    no_workers = DataLoader(list(range(4)), num_workers=0)
    assert exit_workers_with_parent(no_workers).worker_init_fn is None
