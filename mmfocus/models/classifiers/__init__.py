from .focus import FoCus

__all__ = ['FoCus']
