from .caddm import CADDM
from .focus import FoCus
from .lttd import LTTD
from .map_supervised import MapSupervisedClassifier
from .multitask import MultiTaskDetector
from .pcl import PCL

__all__ = ['FoCus', 'MultiTaskDetector', 'MapSupervisedClassifier', 'PCL',
           'CADDM', 'LTTD']
