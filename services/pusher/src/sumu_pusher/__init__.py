"""sumu-pusher: notification requests -> posts to every live connection of their targets.

The Lambda entry point is ``sumu_pusher.handler.handler``.
"""

__version__ = "0.5.0"
