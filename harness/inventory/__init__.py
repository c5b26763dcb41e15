"""Lab inventory: models, loader with line numbers, cross-reference checks, secret references."""

from .loader import LoadedLab, load
from .models import Device, EdgeDevice, Lab, PhoneDevice, PstnDevice, SwitchDevice

__all__ = ["Device", "EdgeDevice", "Lab", "LoadedLab", "PhoneDevice", "PstnDevice", "SwitchDevice", "load"]
