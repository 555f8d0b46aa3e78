# Copyright (c) mmfocus contributors.
"""Running multivariate Gaussian estimates of features and the Mahalanobis
distance to them (UIA-ViT's Multivariate Gaussian Estimation, MGE).

Everything here runs in float32 with autocast disabled, whatever the
surrounding precision: a covariance and its inverse in bfloat16 / float16
are useless.
"""
from typing import Optional

import torch
import torch.distributed as dist
import torch.nn as nn


def _no_autocast(device: torch.device):
    return torch.autocast(device_type=device.type, enabled=False)


def regularised_inverse(cov: torch.Tensor, shrinkage: float = 0.1,
                        eps: float = 1e-5) -> torch.Tensor:
    """The inverse of a shrunk covariance, in float32.

    ``S = (1 - shrinkage) * C + (shrinkage * tr(C) / D + eps) * I`` (the
    symmetrised ``C`` shrunk towards a scaled identity, as Ledoit-Wolf
    does with a data-driven ``shrinkage``), inverted through its Cholesky
    factor. Should ``S`` still not be positive definite in float32, the
    ridge grows tenfold (up to four times); the pseudo-inverse is the last
    resort, so the result is always finite.

    Args:
        cov (Tensor): (D, D) covariance.
        shrinkage (float): In [0, 1]. Defaults to 0.1.
        eps (float): Absolute ridge. Defaults to 1e-5.

    Returns:
        Tensor: (D, D) float32 inverse of ``S``.
    """
    if not 0. <= shrinkage <= 1.:
        raise ValueError(f'shrinkage must lie in [0, 1], got {shrinkage}')
    with _no_autocast(cov.device):
        c = cov.detach().float()
        c = (c + c.transpose(-2, -1)) / 2
        d = c.shape[-1]
        eye = torch.eye(d, dtype=c.dtype, device=c.device)
        mu = torch.diagonal(c).sum() / d
        ridge = shrinkage * mu.clamp_min(0) + eps
        s = (1 - shrinkage) * c
        for _ in range(5):
            chol, info = torch.linalg.cholesky_ex(s + ridge * eye)
            if int(info) == 0:
                inv = torch.cholesky_inverse(chol)
                if torch.isfinite(inv).all():
                    return inv
            ridge = ridge * 10 + eps
        return torch.linalg.pinv(s + ridge * eye, hermitian=True)


def mahalanobis(x: torch.Tensor, mean: torch.Tensor,
                inv_cov: torch.Tensor) -> torch.Tensor:
    """Mahalanobis distances ``sqrt((x - m)^T P (x - m))`` in float32.

    Args:
        x (Tensor): (..., D) points.
        mean (Tensor): (D, ) mean.
        inv_cov (Tensor): (D, D) precision ``P`` (symmetric).

    Returns:
        Tensor: (...) float32 distances (negative rounding clamped to 0).
    """
    with _no_autocast(x.device):
        d = x.float() - mean.float()
        q = ((d @ inv_cov.float()) * d).sum(-1)
        return q.clamp_min(0).sqrt()


class MultivariateGaussian(nn.Module):
    """A running mean and covariance of feature vectors, with the
    regularised inverse kept for Mahalanobis distances.

    Each :meth:`update` merges one batch ``(n, D)``: with weight
    ``w = momentum`` (an exponential moving average of the distribution;
    the first update takes the batch as it is, ``w = 1``), or with
    ``w = n / (N + n)`` when ``momentum`` is None (the exact statistics of
    all ``N + n`` vectors seen). Means and covariances (biased, ``1 / n``)
    merge exactly::

        m' = m + w (m_b - m)
        C' = (1 - w) C + w C_b + w (1 - w) (m_b - m)(m_b - m)^T

    i.e. ``C'`` is the covariance of the mixture of the old estimate and
    the batch, weights ``1 - w`` and ``w``. Batch moments are taken about
    the running mean (numerically safe) and summed over processes when
    ``torch.distributed`` is initialised (every rank must call
    :meth:`update`, with ``n = 0`` if it has nothing). All state is in
    float32 buffers, saved in checkpoints.

    Args:
        dim (int): Feature size D.
        momentum (float, optional): EMA weight of a new batch, or None for
            the cumulative estimate. Defaults to 0.01.
        shrinkage (float): :func:`regularised_inverse`. Defaults to 0.1.
        eps (float): :func:`regularised_inverse`. Defaults to 1e-5.
        inv_interval (int): Recompute the inverse every this many updates
            (it is also recomputed on demand by :meth:`refresh_inverse`).
            Defaults to 1.
    """

    def __init__(self, dim: int, momentum: Optional[float] = 0.01,
                 shrinkage: float = 0.1, eps: float = 1e-5,
                 inv_interval: int = 1) -> None:
        super().__init__()
        if momentum is not None and not 0. < momentum <= 1.:
            raise ValueError(f'momentum must lie in (0, 1] or be None, got '
                             f'{momentum}')
        if inv_interval < 1:
            raise ValueError(f'inv_interval must be >= 1, got {inv_interval}')
        self.dim = int(dim)
        self.momentum = momentum
        self.shrinkage = float(shrinkage)
        self.eps = float(eps)
        self.inv_interval = int(inv_interval)
        self.register_buffer('mean', torch.zeros(dim))
        self.register_buffer('cov', torch.eye(dim))
        self.register_buffer('inv_cov', torch.eye(dim))
        self.register_buffer('num_updates', torch.zeros((), dtype=torch.long))
        self.register_buffer('num_samples', torch.zeros((),
                                                        dtype=torch.float64))

    @property
    def ready(self) -> bool:
        """Whether any batch has been merged."""
        return int(self.num_updates) > 0

    @torch.no_grad()
    def update(self, x: torch.Tensor) -> bool:
        """Merge a batch of vectors ``x`` (n, D) (``n`` may be 0).

        Returns:
            bool: whether anything was merged (over all processes).
        """
        if x.dim() != 2 or x.shape[1] != self.dim:
            raise ValueError(f'expected (n, {self.dim}) features, got '
                             f'{tuple(x.shape)}')
        with _no_autocast(x.device):
            shift = self.mean.clone()
            d = x.detach().float() - shift
            n = torch.tensor([float(d.shape[0])], device=d.device)
            s1 = d.sum(0)
            s2 = d.t() @ d
            if dist.is_available() and dist.is_initialized():
                for t in (n, s1, s2):
                    dist.all_reduce(t)
            n = float(n)
            if n == 0:
                return False
            mean_b = s1 / n  # about `shift`
            cov_b = s2 / n - torch.outer(mean_b, mean_b)
            if not self.ready:
                w = 1.
            elif self.momentum is None:
                w = n / (float(self.num_samples) + n)
            else:
                w = float(self.momentum)
            delta = mean_b - (self.mean - shift)  # = m_b - m
            cov = (1 - w) * self.cov + w * cov_b + \
                w * (1 - w) * torch.outer(delta, delta)
            self.mean.copy_(self.mean + w * delta)
            self.cov.copy_((cov + cov.t()) / 2)
            self.num_samples += n
            self.num_updates += 1
            if int(self.num_updates) % self.inv_interval == 0:
                self.refresh_inverse()
        return True

    @torch.no_grad()
    def refresh_inverse(self) -> None:
        """Recompute ``inv_cov`` from ``cov`` (:func:`regularised_inverse`)."""
        self.inv_cov.copy_(regularised_inverse(self.cov, self.shrinkage,
                                               self.eps))

    def distance(self, x: torch.Tensor) -> torch.Tensor:
        """Mahalanobis distances (...) of ``x`` (..., D) to the estimate."""
        return mahalanobis(x, self.mean, self.inv_cov)

    def extra_repr(self) -> str:
        return (f'dim={self.dim}, momentum={self.momentum}, '
                f'shrinkage={self.shrinkage}, eps={self.eps}')
