from .car_head import CARHead, minmax_normalize

__all__ = ['CARHead', 'minmax_normalize']
