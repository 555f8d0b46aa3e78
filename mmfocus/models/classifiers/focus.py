# Copyright (c) mmfocus contributors.
"""FoCus: Learning to Discover Forgery Cues (Tian et al., TIFS 2024)."""
import copy
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel, ModuleDict
from mmpretrain.structures import DataSample

from mmfocus.registry import MODELS
from ..heads.car_head import MAP_NORMS, minmax_normalize
from ..utils.branch_stack import check_stackable, stacked_forward
from ..utils.labels import gt_labels


def _branch_names(modalities: Sequence[str]) -> List[str]:
    names, seen = [], {}
    for m in modalities:
        seen[m] = seen.get(m, 0) + 1
        names.append(m if seen[m] == 1 else f'{m}_{seen[m]}')
    return names


def _upgrade_state_dict_hook(module, state_dict, prefix, *args) -> None:
    """Load-state-dict pre-hook: :meth:`FoCus.upgrade_state_dict`."""
    module.upgrade_state_dict(state_dict, prefix)


@MODELS.register_module()
class FoCus(BaseModel):
    """The FoCus weakly supervised manipulation-map model (Fig. 2).

    One backbone, CARP neck and CAR head per modality branch (separate
    weights); with two branches, a Complementary Learning neck fuses tokens.

    Loss (Eq. 6-8): ``sum_b CE(z_b, y) * loc_weight + fused_weight *
    CE(z_fused, y)``. Prediction: the fused head's softmax (Table VII).

    Args:
        backbone (dict): Backbone config, built once per branch.
        modalities (Sequence[str]): Branch inputs, e.g. ``('rgb', 'sobel')``
            (the paper), ``('rgb',)`` (RGB only), ``('rgb', 'rgb')`` (+RGB),
            ``('rgb', 'dct')``, ``('rgb', 'srm')``. The first is the primary
            (kept where M=1) modality. Defaults to ``('rgb', 'sobel')``.
        neck (dict): CARP neck config (``in_channels`` filled in).
        head (dict): CAR head config.
        cl_neck (dict, optional): CL neck config (``embed_dim`` filled in);
            None gives the "-CL" ablation: fused map ``max(A_a, A_b)`` and
            the prediction is the mean of the branch softmaxes.
        cl_head (dict, optional): The classifier of the fused feature
            (``in_channels`` filled in). Defaults to mmpretrain's
            ``LinearClsHead`` with 2 classes.
        map_source (str): ``'car'`` (CAR maps) or ``'attention'`` (the
            "-CARP" ablation: last block's class-token attention). With
            ``'attention'`` the CARP branch still gives the loc loss.
            Defaults to ``'car'``.
        map_norm (str): How CAR maps are scaled (:meth:`CARHead.car_maps`):
            ``'minmax'`` per image (Eq. 4, the paper's figures) or
            ``'posterior'``, the per-location fake probability, one scale
            for all faces (then the manipulation map is always the fake
            class's, as the real-class posterior is its complement), or
            ``'gated'``: the fake posterior min-max normalised per image
            times the branch's fake probability (where the evidence lies,
            scaled by how sure the image is). Ignored by
            ``map_source='attention'``. Defaults to ``'minmax'``.
        loc_weight (float): Weight of each branch's loc loss (and of its
            head's real-location term, ``CARHead(real_loc_weight=...)``,
            logged as ``loss_real_loc_<branch>``). Defaults to 1.
        fused_weight (float): lambda of Eq. 8. Defaults to 0.1.
        batch_branches (bool): Run the two backbones as one batched
            computation (stacked weights, ``torch.func.vmap``; see
            :mod:`mmfocus.models.utils.branch_stack`): the same outputs and
            gradients, fewer kernel launches. Needs two branches of one
            architecture; the ``'attention'`` map source and inputs of
            different sizes take the per-branch path. Defaults to False.
        data_preprocessor (dict, optional): Defaults to
            ``FoCusDataPreprocessor`` with the same modalities.
        init_cfg (dict, optional): Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 modalities: Sequence[str] = ('rgb', 'sobel'),
                 neck: Optional[dict] = None,
                 head: Optional[dict] = None,
                 cl_neck: Optional[dict] = dict(type='ComplementaryLearningNeck'),
                 cl_head: Optional[dict] = None,
                 map_source: str = 'car',
                 map_norm: str = 'minmax',
                 loc_weight: float = 1.0,
                 fused_weight: float = 0.1,
                 batch_branches: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='FoCusDataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = copy.deepcopy(data_preprocessor)
            data_preprocessor.setdefault('modalities', tuple(modalities))
            # Build from mmfocus' registry so that plain-kwargs construction
            # works without a default scope.
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor,
                         init_cfg=init_cfg)
        if not 1 <= len(modalities) <= 2:
            raise ValueError(f'FoCus takes 1 or 2 modalities, got '
                             f'{modalities}')
        if map_source not in ('car', 'attention'):
            raise ValueError(f"map_source must be 'car' or 'attention', got "
                             f'{map_source!r}')
        if map_norm not in MAP_NORMS:
            raise ValueError(f'map_norm must be one of {MAP_NORMS}, got '
                             f'{map_norm!r}')
        missing = set(modalities) - set(
            getattr(self.data_preprocessor, 'modalities', modalities))
        if missing:
            raise ValueError(f'data_preprocessor does not produce modalities '
                             f'{sorted(missing)}')
        self.modalities = tuple(modalities)
        self.branches = _branch_names(modalities)
        self.map_source = map_source
        self.map_norm = map_norm
        self.loc_weight = loc_weight
        self.fused_weight = fused_weight

        neck = dict(type='CARPNeck') if neck is None else dict(neck)
        head = dict(type='CARHead') if head is None else dict(head)
        self.backbones = ModuleDict(
            {b: MODELS.build(copy.deepcopy(backbone)) for b in self.branches})
        embed_dim = self.backbones[self.branches[0]].embed_dim
        neck.setdefault('in_channels', embed_dim)
        self.necks = ModuleDict(
            {b: MODELS.build(copy.deepcopy(neck)) for b in self.branches})
        self.heads = ModuleDict(
            {b: MODELS.build(copy.deepcopy(head)) for b in self.branches})
        if cl_neck is not None and len(self.branches) == 2:
            cl_neck = dict(cl_neck)
            cl_neck.setdefault('embed_dim', embed_dim)
            cl_neck.setdefault('num_heads',
                               self.backbones[self.branches[0]].num_heads)
            self.cl_neck = MODELS.build(cl_neck)
            # (its loss module is built but unused: FoCus weighs the fused
            # CE itself, Eq. 8)
            cl_head = dict(
                type='mmpretrain.LinearClsHead', num_classes=2,
                loss=dict(type='mmpretrain.CrossEntropyLoss')) \
                if cl_head is None else dict(cl_head)
            cl_head.setdefault('in_channels', embed_dim)
            self.cl_head = MODELS.build(cl_head)
        else:
            self.cl_neck = self.cl_head = None
        self.batch_branches = bool(batch_branches)
        if self.batch_branches:
            check_stackable([self.backbones[b] for b in self.branches])
        self.register_load_state_dict_pre_hook(_upgrade_state_dict_hook)

    # Checkpoints written before the CL block was split into a neck and a
    # head keep its classifier under ``cl_neck.head``.
    _OLD_CL_HEAD = 'cl_neck.head.'
    _NEW_CL_HEAD = 'cl_head.fc.'

    @classmethod
    def upgrade_state_dict(cls, state: dict, prefix: str = '') -> dict:
        """``state`` with keys of older mmfocus versions renamed in place
        (``cl_neck.head.*`` -> ``cl_head.fc.*``); returns it."""
        old = prefix + cls._OLD_CL_HEAD
        for k in [k for k in state if k.startswith(old)]:
            state[prefix + cls._NEW_CL_HEAD + k[len(old):]] = state.pop(k)
        return state

    # ------------------------------------------------------------------ #
    def _inputs_of(self, inputs: Union[Dict[str, torch.Tensor],
                                       torch.Tensor]) -> Dict[str, torch.Tensor]:
        if isinstance(inputs, torch.Tensor):
            # A raw (B, 3, H, W) [0, 255] RGB batch: make the views here.
            inputs = self.data_preprocessor(
                dict(inputs=inputs.flip(1) if self.data_preprocessor.to_rgb
                     else inputs))['inputs']
        missing = set(self.modalities) - set(inputs)
        if missing:
            raise KeyError(f'FoCus inputs lack modalities {sorted(missing)}')
        return {b: inputs[m] for b, m in zip(self.branches, self.modalities)}

    def extract_feat(self, inputs) -> dict:
        """Run every branch.

        Returns:
            dict: per-branch ``tokens`` (B, N, D), ``feat`` (F'),
            ``logits`` (B, 2), ``attn`` (B, N) or None; plus ``grid`` and,
            with CL, ``fused_logits`` and ``token_mask`` (B, N).
        """
        views = self._inputs_of(inputs)
        out = dict(branch={})
        need_attn = self.map_source == 'attention'
        stacked = None
        if self.batch_branches and not need_attn and len(
                {tuple(x.shape) for x in views.values()}) == 1:
            stacked = stacked_forward([self.backbones[b] for b in views],
                                      list(views.values()))[0]
        for i, (b, x) in enumerate(views.items()):
            bb = self.backbones[b]
            if stacked is not None:
                res = (stacked[i], )
            else:
                res = bb(x, return_attn=need_attn)
            tokens = res[0]
            feat = self.necks[b](tokens, bb.grid_size)
            out['branch'][b] = dict(tokens=tokens, feat=feat,
                                    logits=self.heads[b](feat),
                                    attn=res[2] if need_attn else None)
            out['grid'] = bb.grid_size
            out['input_size'] = tuple(x.shape[-2:])
        if self.cl_neck is not None:
            a, b = self.branches
            fused, out['token_mask'] = self.cl_neck(
                out['branch'][a]['tokens'], out['branch'][b]['tokens'])
            out['fused_feat'] = fused
            out['fused_logits'] = self.cl_head((fused, ))
        return out

    def extract_pre_logits(self, inputs) -> torch.Tensor:
        """The feature the prediction head takes, ``(B, D)``.

        With CL: the fused token feature (fusion block, norm, token
        average) that the CL head classifies. Without CL:
        each branch's CAR-head input ``F'`` pooled over space as the head
        pools it (:meth:`CARHead.pool_channels`, the spatial max of Eq. 2
        by default; ``(B, num_classes * k)``, the values the logits
        average), concatenated over branches. The counterpart of mmpretrain's
        ``extract_feat(inputs, stage='pre_logits')``; used by the t-SNE
        plot (:mod:`mmfocus.visualization.tsne`).
        """
        feats = self.extract_feat(inputs)
        if 'fused_feat' in feats:
            return feats['fused_feat'].float()
        return torch.cat([
            self.heads[b].pool_channels(f['feat']).float().flatten(1)
            for b, f in feats['branch'].items()
        ], dim=1)

    def _scores(self, feats: dict) -> torch.Tensor:
        if 'fused_logits' in feats:
            return feats['fused_logits'].float().softmax(dim=-1)
        probs = [f['logits'].float().softmax(-1)
                 for f in feats['branch'].values()]
        return torch.stack(probs).mean(0)

    def forward(self, inputs, data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'tensor':
            # Logits and the token-grid manipulation map: the whole model
            # runs (so FLOP counters see the CARP necks and CAR heads too).
            feats = self.extract_feat(inputs)
            if 'fused_logits' in feats:
                logits = feats['fused_logits']
            else:
                logits = torch.stack(
                    [f['logits'] for f in feats['branch'].values()]).mean(0)
            return logits, self.manipulation_maps(feats)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}".')

    @staticmethod
    def _labels(data_samples: List[DataSample], device) -> torch.Tensor:
        return gt_labels(data_samples, device, 'FoCus')

    def loss(self, inputs, data_samples: List[DataSample]) -> dict:
        feats = self.extract_feat(inputs)
        first = next(iter(feats['branch'].values()))['logits']
        labels = self._labels(data_samples, first.device)
        losses = {}
        for b, f in feats['branch'].items():
            for name, v in self.heads[b].loss(f['logits'], labels,
                                              f['feat']).items():
                losses[f'{name}_{b}'] = self.loc_weight * v
        if 'fused_logits' in feats:
            losses['loss_fused'] = self.fused_weight * F.cross_entropy(
                feats['fused_logits'].float(), labels)
        with torch.no_grad():
            losses['acc'] = (self._scores(feats).argmax(-1) == labels).float(
            ).mean()
        return losses

    # ------------------------------------------------------------------ #
    def _branch_maps(self, b: str, f: dict, grid) -> torch.Tensor:
        """(B, 2, h, w): maps of both classes for branch b."""
        if self.map_source == 'attention':
            att = minmax_normalize(f['attn'].float().view(-1, 1, *grid))
            return att.expand(-1, 2, -1, -1)
        scores = (f['logits'].float().softmax(-1)
                  if self.map_norm == 'gated' else None)
        return self.heads[b].car_maps(f['feat'], norm=self.map_norm,
                                      scores=scores)

    @property
    def _maps_are_fake_class(self) -> bool:
        """Posterior and gated CAR maps: the manipulation map is the fake
        class's whatever the prediction (both are on one scale for every
        face)."""
        return self.map_norm in ('posterior', 'gated') and \
            self.map_source == 'car'

    def manipulation_maps(self, feats: dict, target_class: Optional[int] = None
                          ) -> torch.Tensor:
        """Fused map (B, h, w) in [0, 1] on the token grid.

        Args:
            feats (dict): Output of :meth:`extract_feat`.
            target_class (int, optional): None uses each branch's predicted
                class c* (Eq. 4-5; the fake class with ``map_norm=
                'posterior'``); 1 gives the Eq. 9 fake-evidence map.
        """
        grid = feats['grid']
        if target_class is None and self._maps_are_fake_class:
            target_class = 1
        maps = []
        for b, f in feats['branch'].items():
            m2 = self._branch_maps(b, f, grid)
            if target_class is None:
                c = f['logits'].argmax(-1)
            else:
                c = torch.full((m2.shape[0], ), target_class,
                               device=m2.device, dtype=torch.long)
            maps.append(m2[torch.arange(m2.shape[0], device=m2.device), c])
        if len(maps) == 1:
            return maps[0]
        if 'token_mask' in feats:
            m = feats['token_mask'].float().view(-1, *grid)
            return m * maps[0] + (1 - m) * maps[1]  # Eq. 5
        return torch.maximum(maps[0], maps[1])  # "-CL" ablation

    def predict(self, inputs, data_samples: Optional[List[DataSample]] = None
                ) -> List[DataSample]:
        """Fake score, label, the fused manipulation map and the Eq. 9 map.

        Each returned DataSample has ``pred_score`` (2,), ``pred_label``,
        ``pred_map`` (H, W) and ``pred_map_fake`` (H, W) upsampled
        bilinearly to the input size, ``token_mask`` (h, w) with CL, and
        ``pred_score_<branch>`` (2,): the softmax of each branch's own CAR
        head (``ForgeryMetric`` reports their AUC as ``auc_<branch>``).
        """
        feats = self.extract_feat(inputs)
        H, W = feats['input_size']
        scores = self._scores(feats)
        up = dict(size=(H, W), mode='bilinear', align_corners=False)
        maps = F.interpolate(self.manipulation_maps(feats)[:, None], **up)
        maps_fake = maps if self._maps_are_fake_class else F.interpolate(
            self.manipulation_maps(feats, target_class=1)[:, None], **up)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(scores.shape[0])]
        # one device->host copy for the batch (set_pred_label would call
        # .item() on a device tensor per sample: one sync each)
        labels = scores.argmax(-1).cpu()
        branch_scores = {b: f['logits'].detach().float().softmax(-1)
                         for b, f in feats['branch'].items()}
        for i, ds in enumerate(data_samples):
            for b, p in branch_scores.items():
                ds.set_field(p[i], f'pred_score_{b}', dtype=torch.Tensor)
            ds.set_pred_score(scores[i]).set_pred_label(labels[i])
            ds.set_field(maps[i, 0].clamp(0, 1), 'pred_map', dtype=torch.Tensor)
            ds.set_field(maps_fake[i, 0].clamp(0, 1), 'pred_map_fake',
                         dtype=torch.Tensor)
            if 'token_mask' in feats:
                ds.set_field(feats['token_mask'][i].view(*feats['grid']),
                             'token_mask', dtype=torch.Tensor)
        return data_samples
