"""rex_env: Rex, the reservation exchange for small electricity prosumers, as an RL environment.

Layers (each imports only the ones above it): :mod:`rex_env.exchange` (the market mechanism,
no RL imports), :mod:`rex_env.physics`, :mod:`rex_env.sim`, then the environments.
"""

__version__ = "0.1.0"
