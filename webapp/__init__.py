"""GiantStep: where a firm stands on the 专精特新 ladder and what to do next."""

__version__ = "0.1.0"
