from .caddm import CADDM
from .face_xray import FaceXray
from .focus import FoCus
from .gffd import GFFD
from .lttd import LTTD
from .map_supervised import MapSupervisedClassifier
from .multitask import MultiTaskDetector
from .pcl import PCL

__all__ = ['FoCus', 'MultiTaskDetector', 'MapSupervisedClassifier', 'PCL',
           'CADDM', 'LTTD']
__all__ += ['FaceXray']
__all__ += ['GFFD']
