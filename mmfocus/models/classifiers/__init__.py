from .caddm import CADDM
from .face_xray import FaceXray
from .focus import FoCus
from .gffd import GFFD
from .lttd import LTTD
from .madd import MaDD
from .map_supervised import MapSupervisedClassifier
from .multitask import MultiTaskDetector
from .pcl import PCL
from .uia_vit import UIAViT

__all__ = ['FoCus', 'MultiTaskDetector', 'MapSupervisedClassifier', 'PCL',
           'CADDM', 'LTTD']
__all__ += ['FaceXray']
__all__ += ['GFFD']
__all__ += ['UIAViT']
__all__ += ['MaDD']
