"""Prosumer physics: what each asset actually produces or consumes, slot by slot (SPEC §8).

Units and conventions (the same everywhere in this package):

* power (rates) in kW, as one average rate per delivery slot; energy in kWh;
* prices and marginal costs in currency/MWh; a cost in currency;
* time in integer seconds; an episode is ``n_slots`` slots of ``slot_len`` seconds starting at
  midnight of ``day_of_year`` (1 = 1 January);
* sign: a *net* rate > 0 is production / export, < 0 consumption / import. Asset outputs are
  reported as magnitudes: wind, PV and plant output >= 0 (production), household load >= 0
  (consumption, net rate = -load); a battery's rate > 0 is discharge.

Randomness: every sampler takes one seeded ``np.random.Generator``; nothing here keeps or
creates generators, so the same seed gives identical arrays. Samplers are vectorised over
the whole episode.
"""

from .forecast import ForecastErrorModel, ForecastPath
from .load import DayType, Household, Season, h0_day_type, h0_dynamisation, h0_season, h0_shape
from .plant import ProvisionPlant
from .solar import (
    PVSystem,
    cos_zenith,
    equation_of_time_min,
    haurwitz_ghi,
    solar_declination,
)
from .storage import Battery, BatteryState
from .wind import WIND_MODELS, WindFarm, power_curve

__all__ = [
    "WIND_MODELS",
    "Battery",
    "BatteryState",
    "DayType",
    "ForecastErrorModel",
    "ForecastPath",
    "Household",
    "PVSystem",
    "ProvisionPlant",
    "Season",
    "WindFarm",
    "cos_zenith",
    "equation_of_time_min",
    "h0_day_type",
    "h0_dynamisation",
    "h0_season",
    "h0_shape",
    "haurwitz_ghi",
    "power_curve",
    "solar_declination",
]
