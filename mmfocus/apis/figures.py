# Copyright (c) mmfocus contributors.
"""Figures that run a model: comparison-sheet columns of live FoCus maps
and the t-SNE of a detector's features (the paper's Figs. 5, 7 and 9).

The drawing is in :mod:`mmfocus.visualization` (arrays in, images out);
this module builds the models from config paths and feeds it.

Example:
    >>> from mmfocus.apis.figures import map_sheet, tsne_plot
    >>> cfg = 'configs/focus/vit-demo_demo-sbi.py'
    >>> ckpt = 'checkpoints/focus_vit-demo_demo-sbi.pth'
    >>> map_sheet('data/demo_faces/test.json', 'work_dirs/sheet.png',
    ...           models={'FoCus': (cfg, ckpt)})
    >>> tsne_plot('configs/focus/vit-demo_demo-sbi.py',
    ...           'checkpoints/focus_vit-demo_demo-sbi.pth',
    ...           'work_dirs/tsne/focus.png')
"""
import copy
import io
import json
import os.path as osp
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope
from torch.utils.data import DataLoader
from tqdm import tqdm

from mmfocus.registry import DATASETS
from mmfocus.utils.device import default_device
from mmfocus.utils.io import atomic_write, atomic_write_json
from mmfocus.visualization import sheet as _sheet
from mmfocus.visualization.sheet import Cell
from mmfocus.visualization.tsne import output_paths, plot_embedding, run_tsne
from .inference import inference_model, init_model

__all__ = ['ModelMaps', 'map_sheet', 'pre_logits', 'build_dataset',
           'extract_features', 'tsne_plot']


class ModelMaps:
    """A comparison-sheet column of maps computed live by a trained FoCus
    (:func:`mmfocus.visualization.sheet.map_sheet` ``columns``). The model
    is built when the column is drawn and freed after it.

    Args:
        name (str): Column title.
        config (str): Model config.
        checkpoint (str): Checkpoint file.
        device (str): Defaults to ``'cpu'``.
        cfg_options (dict | list[str], optional): Config overrides.
        field (str): ``'pred_map'`` (the fused map, as
            ``tools/generate_maps.py`` writes) or ``'pred_map_fake'``
            (Eq. 9). Defaults to ``'pred_map'``.
        batch_size (int): Defaults to 16.
    """

    def __init__(self, name: str, config: str, checkpoint: str,
                 device: str = 'cpu', cfg_options=None,
                 field: str = 'pred_map', batch_size: int = 16) -> None:
        if field not in ('pred_map', 'pred_map_fake'):
            raise ValueError(f"field must be 'pred_map' or 'pred_map_fake', "
                             f'got {field!r}')
        self.name = name
        self.field = field
        self.batch_size = batch_size
        self.spec = [config, checkpoint]
        self._build = dict(config=config, checkpoint=checkpoint,
                           device=device,
                           cfg_options=copy.deepcopy(cfg_options))

    def cells(self, entries: Sequence[dict],
              faces: Sequence[np.ndarray]) -> List[Cell]:
        """The model's map of each face and ``p(fake)`` as caption."""
        model = init_model(**self._build)
        try:
            preds = inference_model(model, list(faces),
                                    batch_size=self.batch_size)
        finally:
            del model
        out: List[Cell] = []
        for ds in preds:
            m = np.asarray(ds.get(self.field), np.float32).squeeze()
            out.append((m, f'p(fake) {float(ds.pred_score[1]):.2f}'))
        return out


def map_sheet(ann_file: str,
              out: str,
              models: Optional[Mapping[str, Tuple[str, str]]] = None,
              model_field: str = 'pred_map',
              device: Optional[str] = None,
              cfg_options=None,
              **kwargs) -> Dict:
    """:func:`mmfocus.visualization.sheet.map_sheet` with model columns.

    Args:
        ann_file, out: See the drawing function.
        models (Mapping[str, tuple], optional): Column title ->
            ``(config, checkpoint)`` of a FoCus to run (after the ``maps``
            columns).
        model_field (str): ``'pred_map'`` or ``'pred_map_fake'``.
        device (str, optional): Defaults to CUDA when present, else CPU.
        cfg_options (dict | list[str], optional): Overrides for every
            model config.
        **kwargs: ``data_root``, ``maps``, ``images``, ``num``, ``seed``,
            ``with_real``, ``show_mask``, ``tile``, ``alpha``,
            ``overwrite``, ``log`` of the drawing function.
    """
    device = default_device(device)
    columns = [ModelMaps(name, cfg, ckpt, device=device,
                         cfg_options=cfg_options, field=model_field)
               for name, (cfg, ckpt) in dict(models or {}).items()]
    return _sheet.map_sheet(ann_file, out, columns=columns, **kwargs)


def pre_logits(model: torch.nn.Module, inputs) -> torch.Tensor:
    """``(B, D)`` features before the model's classification head.

    Args:
        model (nn.Module): A model with ``extract_pre_logits(inputs)``
            (:class:`~mmfocus.models.FoCus`,
            :class:`~mmfocus.models.classifiers.MultiTaskDetector`) or an
            mmpretrain classifier (``extract_feat(inputs, stage=...)``).
        inputs: Preprocessed inputs (the data preprocessor's output).

    Raises:
        TypeError: the model exposes neither.
    """
    if hasattr(model, 'extract_pre_logits'):
        feat = model.extract_pre_logits(inputs)
    else:
        try:
            feat = model.extract_feat(inputs, stage='pre_logits')
        except (AttributeError, TypeError):
            raise TypeError(
                f'{type(model).__name__} has no extract_pre_logits(inputs) '
                'or extract_feat(inputs, stage="pre_logits")') from None
        if isinstance(feat, (tuple, list)):
            feat = feat[-1]
    return feat.float().flatten(1)


def build_dataset(cfg, ann_file: Optional[str] = None,
                  data_root: Optional[str] = None,
                  split: str = 'test'):
    """The config's ``<split>_dataloader.dataset``, optionally on another
    annotation file.

    Args:
        cfg (Config): A loaded config (``model.cfg`` of ``init_model``).
        ann_file (str, optional): Annotation file: an existing path (its
            folder becomes the data root unless ``data_root`` is given), or
            a name under the config's data root. Defaults to the config's.
        data_root (str, optional): Overrides the data root.
        split (str): ``'test'`` or ``'val'``. Defaults to ``'test'``.

    Raises:
        KeyError: the config has no such dataloader.
        FileNotFoundError: the annotation file does not exist.
    """
    loader = cfg.get(f'{split}_dataloader')
    if not loader or 'dataset' not in loader:
        raise KeyError(f'the config has no {split}_dataloader.dataset')
    ds_cfg = copy.deepcopy(loader['dataset'])
    if data_root is not None:
        ds_cfg['data_root'] = data_root
    if ann_file is not None:
        root = ds_cfg.get('data_root') or ''
        if osp.isfile(ann_file) or osp.isabs(ann_file):
            ann_file = osp.abspath(ann_file)
            if data_root is None:
                # the annotation's relative paths start at its folder
                ds_cfg['data_root'] = osp.dirname(ann_file)
        elif not osp.isfile(osp.join(root, ann_file)):
            raise FileNotFoundError(f'annotation file not found: {ann_file} '
                                    f'(nor under data root {root!r})')
        ds_cfg['ann_file'] = ann_file
    scope = cfg.get('default_scope', 'mmfocus')
    with DefaultScope.overwrite_default_scope(scope):
        return DATASETS.build(ds_cfg)


def extract_features(model: torch.nn.Module,
                     dataset,
                     max_samples: Optional[int] = None,
                     seed: int = 0,
                     batch_size: int = 16,
                     num_workers: int = 0,
                     progress: bool = False) -> Dict:
    """Features of (a random subset of) a dataset.

    Args:
        model (nn.Module): From :func:`mmfocus.apis.init_model`.
        dataset: A built face-forgery dataset (its pipeline packs
            ``inputs`` and ``data_samples``).
        max_samples (int, optional): Keep a random subset of this size
            (drawn with ``seed``, kept in dataset order). Defaults to None
            (all).
        seed (int): Subset seed. Defaults to 0.
        batch_size (int): Defaults to 16.
        num_workers (int): DataLoader workers. Defaults to 0.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        dict: ``features`` (N, D) float32, ``labels`` (N,) int64,
        ``methods`` and ``img_paths`` (lists of N str), ``indices`` (N,)
        dataset indices.
    """
    n = len(dataset)
    if max_samples is not None and max_samples < 1:
        raise ValueError(f'max_samples must be >= 1, got {max_samples}')
    indices = np.arange(n)
    if max_samples is not None and max_samples < n:
        rng = np.random.default_rng(seed)
        indices = np.sort(rng.choice(n, size=max_samples, replace=False))
    loader = DataLoader(dataset, batch_size=batch_size,
                        sampler=[int(i) for i in indices],
                        num_workers=num_workers, collate_fn=pseudo_collate)
    feats: List[np.ndarray] = []
    labels: List[int] = []
    methods: List[str] = []
    paths: List[str] = []
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for data in tqdm(loader, desc='features', unit='batch',
                             disable=not progress):
                data = model.data_preprocessor(data, False)
                feats.append(pre_logits(model, data['inputs']).cpu().numpy())
                for ds in data['data_samples']:
                    labels.append(int(ds.gt_label.reshape(-1)[0]))
                    meta = ds.metainfo
                    methods.append(str(meta.get('method') or (
                        'real' if labels[-1] == 0 else 'fake')))
                    paths.append(str(meta.get('img_path', '')))
    finally:
        model.train(was_training)
    return dict(features=np.concatenate(feats).astype(np.float32),
                labels=np.asarray(labels, np.int64), methods=methods,
                img_paths=paths, indices=indices.astype(np.int64))


def tsne_plot(config,
              checkpoint: Optional[str],
              out: str,
              ann_file: Optional[str] = None,
              data_root: Optional[str] = None,
              max_samples: Optional[int] = None,
              perplexity: float = 30.,
              seed: int = 0,
              pca_dims: Optional[int] = 50,
              device: Optional[str] = None,
              cfg_options=None,
              batch_size: int = 16,
              num_workers: int = 0,
              fig_size: Sequence[float] = (6., 6.),
              dpi: int = 150,
              title: Optional[str] = None,
              overwrite: bool = False,
              progress: bool = True,
              log: Callable[[str], None] = print) -> Dict:
    """Features of a trained model over a test set, t-SNE, plot.

    Writes (atomically) ``out`` (PNG), ``<stem>.npz`` (``embedding``,
    ``features``, ``labels``, ``methods``, ``img_paths``) and
    ``<stem>.json`` (the points and the settings).

    Args:
        config (str | Config): Model config.
        checkpoint (str, optional): Checkpoint; None keeps random weights.
        out (str): Output PNG path.
        ann_file (str, optional): Test annotation; defaults to the config's
            ``test_dataloader`` one.
        data_root (str, optional): Overrides the config's data root.
        max_samples (int, optional): Random subset size (``seed``).
        perplexity (float): t-SNE perplexity. Defaults to 30.
        seed (int): Subset, PCA and t-SNE seed. Defaults to 0.
        pca_dims (int, optional): PCA before t-SNE. Defaults to 50.
        device (str, optional): Defaults to CUDA when present, else CPU.
        cfg_options (dict | list[str], optional): Config overrides.
        batch_size (int): Defaults to 16.
        num_workers (int): Defaults to 0.
        fig_size (Sequence[float]): Inches. Defaults to (6, 6).
        dpi (int): Defaults to 150.
        title (str, optional): Defaults to the config name.
        overwrite (bool): Replace existing outputs. Defaults to False.
        progress (bool): Progress bar. Defaults to True.
        log (callable): Defaults to print.

    Returns:
        dict: ``png``, ``embedding`` (npz path), ``json``, ``num_samples``,
        ``feature_dim``, ``perplexity``.

    Raises:
        FileExistsError: an output exists and not ``overwrite``.
    """
    if not str(out).lower().endswith('.png'):
        raise ValueError(f'--out must be a .png file, got {out}')
    paths = output_paths(out)
    if not overwrite:
        for p in paths.values():
            if osp.exists(p):
                raise FileExistsError(f'output exists: {p} (pass '
                                      '--overwrite to replace it)')
    model = init_model(config, checkpoint, device=default_device(device),
                       cfg_options=cfg_options)
    dataset = build_dataset(model.cfg, ann_file, data_root)
    data = extract_features(model, dataset, max_samples=max_samples,
                            seed=seed, batch_size=batch_size,
                            num_workers=num_workers, progress=progress)
    res = run_tsne(data['features'], perplexity=perplexity, seed=seed,
                   pca_dims=pca_dims, log=log)
    classes = tuple(dataset.metainfo.get('classes', ('real', 'fake')))
    if title is None and isinstance(config, str):
        title = osp.splitext(osp.basename(config))[0]
    png = plot_embedding(res['embedding'], data['labels'], data['methods'],
                         classes=classes, title=title, fig_size=fig_size,
                         dpi=dpi)
    buf = io.BytesIO()
    np.savez_compressed(buf, embedding=res['embedding'],
                        features=data['features'], labels=data['labels'],
                        methods=np.asarray(data['methods']),
                        img_paths=np.asarray(data['img_paths']),
                        indices=data['indices'])
    atomic_write(paths['npz'], buf.getvalue(), overwrite=overwrite)
    points = [dict(img_path=p, label=int(lab), method=m, x=float(e[0]),
                   y=float(e[1]))
              for p, lab, m, e in zip(data['img_paths'], data['labels'],
                                      data['methods'], res['embedding'])]
    meta = dict(config=config if isinstance(config, str) else None,
                checkpoint=checkpoint,
                ann_file=getattr(dataset, 'ann_file', None),
                model=type(model).__name__, classes=list(classes),
                num_samples=len(points),
                feature_dim=int(data['features'].shape[1]),
                perplexity=res['perplexity'], pca_dims=res['pca_dims'],
                seed=seed, kl_divergence=res['kl_divergence'])
    atomic_write_json(paths['json'], dict(meta, points=points),
                      overwrite=overwrite)
    atomic_write(paths['png'], png, overwrite=overwrite)
    counts = {m: data['methods'].count(m) for m in dict.fromkeys(
        data['methods'])}
    log(f't-SNE of {len(points)} samples ({json.dumps(counts)}), '
        f'{meta["feature_dim"]}-d {meta["model"]} features -> {paths["png"]}'
        f' (embedding: {paths["npz"]}, {paths["json"]})')
    return dict(png=paths['png'], embedding=paths['npz'], json=paths['json'],
                num_samples=len(points), feature_dim=meta['feature_dim'],
                perplexity=res['perplexity'])
